// sum_float and sum_int: per-thread chunk sums merged exactly.
#include <cstddef>
#include <cstdint>

#include "reduce/driver.hpp"
#include "reduce/kernels.hpp"
#include "reduce/reduce.hpp"

namespace supervm::reduce {

template <class T>
FloatSum sum_float(const T* a, std::size_t n, int threads) {
    auto kernel = detail::pick(&detail::avx2::sum_float_chunk<T>,
                               &detail::base::sum_float_chunk<T>);
    FloatSum total = detail::run_chunks<FloatSum>(
        a, n, threads, kernel, [](const FloatSum& x, const FloatSum& y) { return merge(x, y); });
    // Chunks and lanes meet in an order of their own: when that ends in inf or NaN, the
    // data decide (one more read, only then).
    if (!__builtin_isfinite(total.hi)) total = detail::base::sum_float_rescue(a, n);
    return total;
}

template <class T>
IntSum sum_int(const T* a, std::size_t n, int threads) {
    auto kernel = detail::pick(&detail::avx2::sum_int_chunk<T>, &detail::base::sum_int_chunk<T>);
    return detail::run_chunks<IntSum>(
        a, n, threads, kernel, [](const IntSum& x, const IntSum& y) { return merge(x, y); });
}

template FloatSum sum_float<float>(const float*, std::size_t, int);
template FloatSum sum_float<double>(const double*, std::size_t, int);
template IntSum sum_int<std::int32_t>(const std::int32_t*, std::size_t, int);
template IntSum sum_int<std::int64_t>(const std::int64_t*, std::size_t, int);
template IntSum sum_int<std::uint32_t>(const std::uint32_t*, std::size_t, int);
template IntSum sum_int<std::uint64_t>(const std::uint64_t*, std::size_t, int);

}  // namespace supervm::reduce
