// Exact merges of partial states: TwoSum for FloatSum, 128-bit add for IntSum, Chan et al.
// for Moments. Used between threads, between blocks inside the moments kernel, and by
// callers combining results from other ranks.
#include <cmath>
#include <cstdint>
#include <limits>

#include "reduce/reduce.hpp"

namespace supervm::reduce {

namespace {

// Knuth's TwoSum: s + e == a + b exactly when s is finite.
void two_sum(double a, double b, double& s, double& e) {
    s = a + b;
    double z = s - a;
    e = (a - (s - z)) + (b - z);
}

}  // namespace

FloatSum merge(const FloatSum& a, const FloatSum& b) {
    FloatSum r{a.count + b.count, 0.0, 0.0};
    if (!std::isfinite(a.hi) || !std::isfinite(b.hi)) {
        r.hi = a.hi + b.hi;  // inf + -inf = NaN, as numpy; lo means nothing then
        return r;
    }
    double e;
    two_sum(a.hi, b.hi, r.hi, e);
    if (!std::isfinite(r.hi)) return r;  // overflow: numpy's sum overflows too
    double lo = (a.lo + b.lo) + e;
    if (lo != 0.0) {  // skipping keeps -0.0 + -0.0 == -0.0
        double hi = r.hi;
        two_sum(hi, lo, r.hi, r.lo);
        if (!std::isfinite(r.hi)) r.lo = 0.0;
    }
    return r;
}

IntSum merge(const IntSum& a, const IntSum& b) {
    IntSum r{a.count + b.count, 0, 0};
    r.lo = a.lo + b.lo;  // wraps modulo 2**64
    std::uint64_t carry = r.lo < a.lo ? 1 : 0;
    r.hi = static_cast<std::int64_t>(static_cast<std::uint64_t>(a.hi) +
                                     static_cast<std::uint64_t>(b.hi) + carry);
    return r;
}

// Chan, Golub and LeVeque. A non-finite mean (inf or NaN data) gives the count-weighted
// mean, so inf stays inf like numpy's mean, and m2 NaN like numpy's var.
Moments merge(const Moments& a, const Moments& b) {
    if (a.count == 0) return b;
    if (b.count == 0) return a;
    Moments r{a.count + b.count, 0.0, 0.0};
    const double n = static_cast<double>(r.count);
    const double na = static_cast<double>(a.count), nb = static_cast<double>(b.count);
    if (!std::isfinite(a.mean) || !std::isfinite(b.mean)) {
        r.mean = a.mean * (na / n) + b.mean * (nb / n);
        r.m2 = std::numeric_limits<double>::quiet_NaN();
        return r;
    }
    const double delta = b.mean - a.mean;
    if (!std::isfinite(delta)) {  // huge means of opposite sign: deviations overflow
        r.mean = a.mean * (na / n) + b.mean * (nb / n);
        r.m2 = std::numeric_limits<double>::infinity();
        return r;
    }
    r.mean = a.mean + delta * (nb / n);
    r.m2 = a.m2 + b.m2 + delta * delta * (na * (nb / n));
    return r;
}

}  // namespace supervm::reduce
