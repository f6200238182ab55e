// Stable insertion sort on the key bits at and above `lo`, for tiny runs.
#pragma once

#include <cstddef>

#include "sort/items.hpp"

namespace supervm::sort {

template <class Item>
void insertion_sort(Item* a, std::size_t m, unsigned lo) {
    for (std::size_t i = 1; i < m; ++i) {
        Item x = a[i];
        auto k = item_key(x) >> lo;
        std::size_t j = i;
        // Strict comparison keeps equal keys in input order.
        while (j > 0 && k < (item_key(a[j - 1]) >> lo)) {
            a[j] = a[j - 1];
            --j;
        }
        a[j] = x;
    }
}

}  // namespace supervm::sort
