// minmax: per-thread chunk min/max merged; NaN in any chunk makes the result NaN.
#include <cstddef>
#include <cstdint>

#include "reduce/driver.hpp"
#include "reduce/kernels.hpp"
#include "reduce/reduce.hpp"

namespace supervm::reduce {

namespace {

template <class T>
MinMax<T> merge_minmax(const MinMax<T>& a, const MinMax<T>& b) {
    if (a.count == 0) return b;
    if (b.count == 0) return a;
    MinMax<T> r{a.count + b.count, a.min, a.max, a.nan || b.nan};
    if (r.nan) {
        r.min = a.nan ? a.min : b.min;  // the chunk's NaN
        r.max = r.min;
        return r;
    }
    if (b.min < r.min) r.min = b.min;
    if (b.max > r.max) r.max = b.max;
    return r;
}

}  // namespace

template <class T>
MinMax<T> minmax(const T* a, std::size_t n, int threads) {
    auto kernel = detail::pick(&detail::avx2::minmax_chunk<T>, &detail::base::minmax_chunk<T>);
    return detail::run_chunks<MinMax<T>>(a, n, threads, kernel, merge_minmax<T>);
}

template MinMax<std::int32_t> minmax<std::int32_t>(const std::int32_t*, std::size_t, int);
template MinMax<std::int64_t> minmax<std::int64_t>(const std::int64_t*, std::size_t, int);
template MinMax<std::uint32_t> minmax<std::uint32_t>(const std::uint32_t*, std::size_t, int);
template MinMax<std::uint64_t> minmax<std::uint64_t>(const std::uint64_t*, std::size_t, int);
template MinMax<float> minmax<float>(const float*, std::size_t, int);
template MinMax<double> minmax<double>(const double*, std::size_t, int);

}  // namespace supervm::reduce
