// Partitioned radix sort and stable argsort over the six supported key types.
//
// Keys are mapped to unsigned integers whose order is the numeric order (sign flip for
// signed integers; for floats the IEEE total-order trick, with every NaN mapped above +inf
// so that NaNs sort last as in numpy). The sort is a parallel MSD partition followed by
// in-cache LSD passes per bucket; digits whose value is constant are skipped.
#pragma once

#include <cstddef>
#include <cstdint>

namespace supervm::sort {

// Write the `n` elements of `in`, sorted ascending (NaNs last), to `out`.
// `in` and `out` must not overlap. `threads` <= 0 means every core; 1 is strictly serial.
template <class T>
void sort_copy(const T* in, T* out, std::size_t n, int threads);

// Write to `out` the int64 indices that sort `in` stably (equal to numpy's
// argsort(kind="stable"): ties, -0.0 == +0.0, and all NaNs keep their input order, NaNs last).
template <class T>
void argsort_stable(const T* in, std::int64_t* out, std::size_t n, int threads);

}  // namespace supervm::sort
