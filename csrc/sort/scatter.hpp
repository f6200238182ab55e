// Stable scatter of a range of items into buckets by one digit.
//
// Plain stores: with at most 2**10 buckets the open destination lines fit in L2 and the
// TLB (huge pages), and on this machine that measured faster (1.7-2 ns/item) than staging
// lines in per-bucket write-combining buffers (2.6-3.4 ns/item, 64-256 byte lines).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "sort/items.hpp"

namespace supervm::sort {

// Items [b, e) of src go to dst[pos[d]++] where d = (key >> shift) & (nb - 1).
template <class Item, class Src>
void scatter(const Src& src, std::size_t b, std::size_t e, Item* dst, std::size_t* pos,
             unsigned shift, std::size_t nb) {
    using K = item_key_t<Item>;
    const K mask = static_cast<K>(nb - 1);
    for (std::size_t i = b; i < e; ++i) {
        Item it = src(i);
        dst[pos[(item_key(it) >> shift) & mask]++] = it;
    }
}

// Items [b, e) of src go to dst[pos[map.bucket(key)]++]: equal-size buckets on skewed keys.
// The bucket ids of a small block are computed first: interleaved with the stores, the chain
// of table loads leaves store addresses unknown for long and the loop ran 2.5x slower than
// a plain scatter; split, the lookups overlap freely and the scatter is a plain one again.
template <class Item, class Src, class Map>
void scatter_mapped(const Src& src, std::size_t b, std::size_t e, Item* dst, std::size_t* pos,
                    const Map map) {
    constexpr std::size_t kBlock = 256;
    std::uint16_t id[kBlock];
    for (std::size_t i = b; i < e; i += kBlock) {
        std::size_t m = std::min(kBlock, e - i);
        for (std::size_t j = 0; j < m; ++j) id[j] = static_cast<std::uint16_t>(map.bucket(item_key(src(i + j))));
        for (std::size_t j = 0; j < m; ++j) {
            Item it = src(i + j);
            dst[pos[id[j]]++] = it;
        }
    }
}

}  // namespace supervm::sort
