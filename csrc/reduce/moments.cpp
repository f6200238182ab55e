// moments: per-chunk moments merged with Chan's formula (merge.cpp); the mean is then
// replaced by the exactly merged compensated sum over the count.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "reduce/driver.hpp"
#include "reduce/kernels.hpp"
#include "reduce/reduce.hpp"

namespace supervm::reduce {

namespace {

// Merge two chunk results: Chan for the moments, TwoSum for the sums.
detail::MomentsPart merge_parts(const detail::MomentsPart& a, const detail::MomentsPart& b) {
    detail::MomentsPart r{merge(a.m, b.m), a.sum_hi + b.sum_hi, 0.0};
    double z = r.sum_hi - a.sum_hi;
    double e = (a.sum_hi - (r.sum_hi - z)) + (b.sum_hi - z);
    r.sum_lo = (a.sum_lo + b.sum_lo) + e;
    return r;
}

// Chan's running mean drifts by about one rounding per merge; the compensated sum gives
// a mean at least as accurate as numpy's pairwise one, independent of how the array was
// cut. Used only when finite, so inf and NaN data keep Chan's (numpy-like) mean.
Moments finish(const detail::MomentsPart& p) {
    Moments r = p.m;
    if (r.count == 0) return r;
    double mean = (p.sum_hi + p.sum_lo) / static_cast<double>(r.count);
    if (std::isfinite(mean) && std::isfinite(r.mean)) r.mean = mean;
    return r;
}

}  // namespace

template <class T>
Moments moments(const T* a, std::size_t n, int threads) {
    auto kernel = detail::pick(&detail::avx2::moments_chunk<T>, &detail::base::moments_chunk<T>);
    return finish(detail::run_chunks<detail::MomentsPart>(a, n, threads, kernel, merge_parts));
}

template Moments moments<std::int32_t>(const std::int32_t*, std::size_t, int);
template Moments moments<std::int64_t>(const std::int64_t*, std::size_t, int);
template Moments moments<std::uint32_t>(const std::uint32_t*, std::size_t, int);
template Moments moments<std::uint64_t>(const std::uint64_t*, std::size_t, int);
template Moments moments<float>(const float*, std::size_t, int);
template Moments moments<double>(const double*, std::size_t, int);

}  // namespace supervm::reduce
