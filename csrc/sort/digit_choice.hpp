// How the partition pass picks its digit from a coarse histogram of the top varying bits.
//
// Shared by the full first read and by the sample that lets the first pass of a large
// input skip that read (see msd_pass).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "sort/tuning.hpp"

namespace supervm::sort {

// Items in the buckets of the plain nb-bucket digit (coarse bins grouped by `group` bits)
// that hold more than `limit` items: the items a plain digit would partition again.
inline std::size_t skewed_items(const std::size_t* ctot, std::size_t ncb, unsigned group,
                                std::size_t nb, std::size_t limit) {
    std::vector<std::size_t> tot(nb, 0);
    for (std::size_t c = 0; c < ncb; ++c) tot[(c >> group) & (nb - 1)] += ctot[c];
    std::size_t skewed = 0;
    for (std::size_t c : tot)
        if (c > limit) skewed += c;
    return skewed;
}

// The narrowest plain digit, from the top varying bit `hi` down, wider than `min_bits`,
// whose largest bucket holds at most `target` items while at most kWideMaxActive buckets are
// non-empty (coarse counts taken as spread evenly below each coarse bin); 0 if none.
// `largest(w, spread)` estimates the largest bucket of width w, `spread` being the coarse
// estimate: the largest coarse bin split evenly.
//
// A wider plain digit usually beats the equal-count table: the scatter costs by open
// (non-empty) buckets, not by the size of the sparse offset array.
// Measured (50M normal, 2 threads, noisy): float64 picks 18 bits (~2.7K open),
// ~490-600 -> ~425-480 ms; float32 15 bits, ~420-470 -> ~320-375 ms (14 bits, ~1.4K open,
// since buckets of up to kDirectBucketBytes sort directly: ~275 ms).
template <class Largest>
unsigned wide_width(const std::size_t* ctot, std::size_t ncb, unsigned cshift, unsigned hi,
                    unsigned lowest, unsigned min_bits, std::size_t target,
                    const Largest& largest) {
    unsigned maxw = std::min(hi + 1 - lowest, kWideMaxBits);
    std::size_t cmax = *std::max_element(ctot, ctot + ncb);
    // Widths reach below the coarse digit, so each coarse bin splits into 2**extra.
    for (unsigned w = std::max(min_bits, hi + 1 - cshift) + 1; w <= maxw; ++w) {
        unsigned extra = cshift - (hi + 1 - w);
        std::size_t active = 0;
        for (std::size_t c = 0; c < ncb; ++c)
            if (ctot[c]) active += std::min(std::size_t(1) << extra, ctot[c]);
        if (active > kWideMaxActive) return 0;
        if (largest(w, cmax >> extra) <= target) return w;
    }
    return 0;
}

}  // namespace supervm::sort
