// Reductions over contiguous arrays, each returning a mergeable partial state.
//
// Every state can be combined with another state of the same kind computed on other data
// (another thread, another MPI rank) and gives the same answer as one pass over all of it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace supervm::reduce {

// Compensated floating-point sum: the value is hi + lo (hi alone when hi is not finite).
struct FloatSum {
    std::uint64_t count;
    double hi;
    double lo;
};

// Exact integer sum as a two's-complement 128-bit value: hi * 2**64 + lo.
struct IntSum {
    std::uint64_t count;
    std::int64_t hi;
    std::uint64_t lo;
};

// Smallest and largest element; for floats `nan` is set when any element is NaN.
template <class T>
struct MinMax {
    std::uint64_t count;
    T min;
    T max;
    bool nan;
};

// Count, mean and sum of squared deviations from the mean (Chan, Golub and LeVeque),
// computed in double for every input type. NaN anywhere makes mean and m2 NaN.
struct Moments {
    std::uint64_t count;
    double mean;
    double m2;
};

template <class T>
FloatSum sum_float(const T* a, std::size_t n, int threads);  // T: float, double

template <class T>
IntSum sum_int(const T* a, std::size_t n, int threads);  // T: int32, int64, uint32, uint64

template <class T>
MinMax<T> minmax(const T* a, std::size_t n, int threads);  // count == 0: min/max unset

template <class T>
Moments moments(const T* a, std::size_t n, int threads);

// Add to counts[0..bins) the elements of `a` that fall in the uniform bins given by
// edges[0..bins] (ascending, as numpy.linspace makes them). numpy's rules: bin i holds
// edges[i] <= x < edges[i+1], the last bin also holds its right edge, elements outside
// [edges[0], edges[bins]] and NaNs are not counted. The bin index is computed by
// arithmetic and then corrected against the edges, exactly as numpy.histogram does.
template <class T>
void histogram_uniform(const T* a, std::size_t n, const double* edges, std::size_t bins,
                       std::uint64_t* counts, int threads);

// Merge `b` into `a`.
FloatSum merge(const FloatSum& a, const FloatSum& b);
IntSum merge(const IntSum& a, const IntSum& b);
Moments merge(const Moments& a, const Moments& b);

}  // namespace supervm::reduce
