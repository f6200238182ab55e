// The things the radix engine moves: bare keys, or keys carrying their input index.
#pragma once

#include <cstddef>
#include <cstdint>

namespace supervm::sort {

// A 64-bit key with the index it came from (argsort of 64-bit keys, or n >= 2**32).
struct KeyIndex {
    std::uint64_t key;
    std::uint64_t index;
};

inline std::uint32_t item_key(std::uint32_t x) { return x; }
inline std::uint64_t item_key(std::uint64_t x) { return x; }
inline std::uint64_t item_key(const KeyIndex& x) { return x.key; }

template <class Item>
using item_key_t = decltype(item_key(Item{}));

// Finish callback that does nothing (inner recursion levels).
struct NoFinish {
    template <class Item>
    void operator()(Item*, std::size_t) const {}
};

// Source that reads items from an array.
template <class Item>
struct ArraySource {
    const Item* p;
    Item operator()(std::size_t i) const { return p[i]; }
};

}  // namespace supervm::sort
