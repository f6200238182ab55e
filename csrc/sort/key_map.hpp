// Order-preserving maps from the six key types to unsigned integers, and back.
//
// Signed integers flip the sign bit. Floats use the IEEE total-order trick (negative values
// invert every bit, positive values set the sign bit); every NaN maps to the largest key so
// NaNs sort last whatever their sign or payload, as numpy does.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace supervm::sort {

// Unsigned integer of the same width as T.
template <class T>
using key_t = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

template <class T>
struct KeyMap {
    using K = key_t<T>;
    static constexpr K kSign = K(1) << (8 * sizeof(K) - 1);

    static K bits(T v) {
        K b;
        std::memcpy(&b, &v, sizeof b);
        return b;
    }

    // Key for sorting: equal keys may still be distinct values (-0.0 before +0.0).
    static K to_key(T v) {
        K b = bits(v);
        if constexpr (std::is_floating_point_v<T>) {
            // Branch-free so the loops that call it stay vectorizable.
            K mask = K(-(b >> (8 * sizeof(K) - 1))) | kSign;
            K k = b ^ mask;
            return (b & ~kSign) > kExpMask ? ~K(0) : k;
        } else if constexpr (std::is_signed_v<T>) {
            return b ^ kSign;
        } else {
            return b;
        }
    }

    // Key for stable argsort: values numpy calls equal get equal keys (-0.0 == +0.0).
    static K to_canonical_key(T v) {
        if constexpr (std::is_floating_point_v<T>) {
            K b = bits(v);
            return to_key(b == kSign ? T(0) : v);
        } else {
            return to_key(v);
        }
    }

    // The bits of the value whose key is k (the largest key becomes a quiet NaN).
    static K from_key(K k) {
        if constexpr (std::is_floating_point_v<T>) {
            return (k & kSign) ? (k ^ kSign) : ~k;
        } else if constexpr (std::is_signed_v<T>) {
            return k ^ kSign;
        } else {
            return k;
        }
    }

private:
    // Bits of +inf: anything above it (sign cleared) is a NaN.
    static constexpr K kExpMask =
        std::is_same_v<T, float> ? K(0x7f800000u) : K(0x7ff0000000000000ull);
};

}  // namespace supervm::sort
