// Digit histograms that stay fast on skewed data.
//
// Counting equal digits back to back chains every increment through the same counter
// (store-to-load forwarding, ~5 cycles each); spreading consecutive items over four
// counter copies breaks the chain, at no cost for uniform data.
#pragma once

#include <algorithm>
#include <cstddef>
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

}  // namespace supervm::sort
