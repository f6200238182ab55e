// Chunk kernels built for baseline x86-64 (SSE2): the fallback on CPUs without AVX2.
#include <cstddef>
#include <cstdint>

#include "reduce/kernels.hpp"
#include "reduce/reduce.hpp"

// The 32-byte vector helpers are inline and internal to this file: no ABI is exposed.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace supervm::reduce::detail::base {
#define SUPERVM_REDUCE_VEC_BYTES 16
#include "reduce/impl/all.inc"
#undef SUPERVM_REDUCE_VEC_BYTES
}  // namespace supervm::reduce::detail::base
