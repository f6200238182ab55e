// Single-threaded chunk kernels behind the public reductions, in two builds.
//
// `base` is compiled for baseline x86-64 and `avx2` under `#pragma GCC target("avx2,fma")`;
// the drivers (sum.cpp, minmax.cpp, ...) split work over threads and pick one build at run
// time with cpu_has_avx2_fma(). Both namespaces declare the same functions, listed once in
// kernel_decls.inc.
#pragma once

#include <cstddef>
#include <cstdint>

#include "reduce/reduce.hpp"

namespace supervm::reduce::detail {

// Moments of a chunk plus its compensated sum (hi + lo). Merging chunks with Chan's
// formula rounds the mean once per merge; the sums merge exactly, so the final mean is
// taken from them and does not depend on how the array was cut.
struct MomentsPart {
    Moments m;
    double sum_hi;
    double sum_lo;
};

namespace base {
#include "reduce/kernel_decls.inc"
}

namespace avx2 {
#include "reduce/kernel_decls.inc"
}

}  // namespace supervm::reduce::detail
