// Chunk kernels built for AVX2 + FMA without -march: called only after cpu_has_avx2_fma().
//
// Every standard header is included before the target pragma, so no std inline function
// gets an AVX2 body that the linker could hand to baseline callers; the kernels use
// builtins only and live in their own namespace.
#include <cstddef>
#include <cstdint>

#include "reduce/kernels.hpp"
#include "reduce/reduce.hpp"

// The 32-byte vector helpers are inline and internal to this file: no ABI is exposed.
#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#pragma GCC target("avx2,fma")
#endif

namespace supervm::reduce::detail::avx2 {
#define SUPERVM_REDUCE_VEC_BYTES 32
#include "reduce/impl/all.inc"
#undef SUPERVM_REDUCE_VEC_BYTES
}  // namespace supervm::reduce::detail::avx2
