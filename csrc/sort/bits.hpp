// Bit positions of the unsigned key types.
#pragma once

#include <cstddef>
#include <cstdint>

namespace supervm::sort {

// Index of the highest set bit; x != 0.
inline unsigned high_bit(std::uint64_t x) { return 63u - static_cast<unsigned>(__builtin_clzll(x)); }
// Index of the lowest set bit; x != 0.
inline unsigned low_bit(std::uint64_t x) { return static_cast<unsigned>(__builtin_ctzll(x)); }

// Smallest b with 2**b >= x.
inline unsigned ceil_log2(std::size_t x) { return x <= 1 ? 0u : high_bit(x - 1) + 1u; }

}  // namespace supervm::sort
