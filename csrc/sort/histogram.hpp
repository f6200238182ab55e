// Digit histograms that stay fast on skewed data.
//
// Counting equal digits back to back chains every increment through the same counter
// (store-to-load forwarding, ~5 cycles each); spreading consecutive items over four
// counter copies breaks the chain, at no cost for uniform data.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sort/items.hpp"

namespace supervm::sort {

// h[(key >> shift) & mask] += count over items [b, e) of src; also folds keys into OR/AND.
template <class Item, class Src, class K>
void count_digits(const Src& src, std::size_t b, std::size_t e, unsigned shift, K mask,
                  std::size_t* h, K& orv, K& andv) {
    std::size_t nb = static_cast<std::size_t>(mask) + 1;
    std::vector<std::size_t> copies(3 * nb, 0);
    std::size_t* h1 = copies.data();
    std::size_t* h2 = h1 + nb;
    std::size_t* h3 = h2 + nb;
    K o = 0, a = ~K(0);
    std::size_t i = b;
    for (; i + 4 <= e; i += 4) {
        K k0 = item_key(src(i)), k1 = item_key(src(i + 1));
        K k2 = item_key(src(i + 2)), k3 = item_key(src(i + 3));
        o |= (k0 | k1) | (k2 | k3);
        a &= (k0 & k1) & (k2 & k3);
        h[(k0 >> shift) & mask]++;
        h1[(k1 >> shift) & mask]++;
        h2[(k2 >> shift) & mask]++;
        h3[(k3 >> shift) & mask]++;
    }
    for (; i < e; ++i) {
        K k = item_key(src(i));
        o |= k;
        a &= k;
        h[(k >> shift) & mask]++;
    }
    for (std::size_t d = 0; d < nb; ++d) h[d] += h1[d] + h2[d] + h3[d];
    orv = o;
    andv = a;
}

// h[bin(key)] += count over items [b, e) of src, for nbins bins (a wide digit, or the fine
// histogram of a BucketMap); also folds keys into OR/AND. Counters are 32-bit so two copies of a few thousand bins stay in L1/L2; they
// are flushed into h before they can overflow.
template <class Item, class Src, class Bin>
void count_bins(const Src& src, std::size_t b, std::size_t e, std::size_t nbins, const Bin& bin,
                std::size_t* h, item_key_t<Item>& orv, item_key_t<Item>& andv) {
    using K = item_key_t<Item>;
    K o = 0, a = ~K(0);
    constexpr std::size_t kBlock = std::size_t(1) << 31;
    std::vector<std::uint32_t> copies(2 * nbins);
    std::uint32_t* h0 = copies.data();
    std::uint32_t* h1 = h0 + nbins;
    while (b < e) {
        std::size_t end = e - b > kBlock ? b + kBlock : e;
        // Bins of a small block first, then the counts: see scatter_mapped.
        constexpr std::size_t kIds = 256;
        std::uint32_t id[kIds];
        for (std::size_t i = b; i < end; i += kIds) {
            std::size_t m = std::min(kIds, end - i);
            for (std::size_t j = 0; j < m; ++j) {
                K k = item_key(src(i + j));
                o |= k;
                a &= k;
                id[j] = static_cast<std::uint32_t>(bin(k));
            }
            std::size_t j = 0;
            for (; j + 2 <= m; j += 2) {
                h0[id[j]]++;
                h1[id[j + 1]]++;
            }
            if (j < m) h0[id[j]]++;
        }
        for (std::size_t d = 0; d < nbins; ++d) {
            h[d] += std::size_t(h0[d]) + h1[d];
            h0[d] = h1[d] = 0;
        }
        b = end;
    }
    orv = o;
    andv = a;
}

}  // namespace supervm::sort
