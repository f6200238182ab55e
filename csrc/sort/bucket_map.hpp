// Equal-count buckets for skewed keys, found from two histograms.
//
// The top bits of a float key are sign and exponent, so a plain top digit puts a whole
// octave of normal or uniform data in one bucket. Here every coarse bin (the top varying
// bits) is split by the bits below it into as many sub-bins as its share of the items
// deserves; a histogram over those fine bins is then cut into runs of about equal count.
// The bucket of a key never decreases as the key grows, so a scatter by it stays a sort.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sort/bits.hpp"

namespace supervm::sort {

template <class K>
class BucketMap {
public:
    // Coarse bin c = (key >> cshift) & (ncb - 1) holds ctot[c] of the n items. Give it about
    // ctot[c] * budget / n sub-bins (a power of two), using only bits at or above `lowest`.
    void plan(const std::size_t* ctot, std::size_t ncb, std::size_t n, unsigned cshift,
              unsigned lowest, std::size_t budget) {
        cshift_ = cshift;
        cmask_ = static_cast<K>(ncb - 1);
        sub_.resize(ncb);
        unsigned room = std::min(cshift - lowest, kMaxSubBits);
        std::uint32_t base = 0;
        for (std::size_t c = 0; c < ncb; ++c) {
            std::size_t want = (ctot[c] * budget + n - 1) / n;
            unsigned s = std::min(ceil_log2(want), room);
            sub_[c] = {base, (std::uint32_t(1) << s) - 1, cshift - s};
            base += std::uint32_t(1) << s;
        }
        nfine_ = base;
    }

    std::size_t fine_bins() const { return nfine_; }

    struct Sub {
        std::uint32_t base;  // first fine bin of this coarse bin
        std::uint32_t mask;  // sub-bins - 1
        std::uint32_t shift; // position of the sub-bin bits
    };

    // The lookups of the hot loops, held by value: stores of u32 items or counters could
    // alias the members of the map, which would reload them on every item.
    struct View {
        const Sub* sub;
        const std::uint16_t* tab;
        K cmask;
        unsigned cshift;
        std::size_t fine(K k) const {
            const Sub& s = sub[static_cast<std::size_t>((k >> cshift) & cmask)];
            return s.base + static_cast<std::size_t>((k >> s.shift) & s.mask);
        }
        std::size_t bucket(K k) const { return tab[fine(k)]; }
    };
    View view() const { return {sub_.data(), tab_.data(), cmask_, cshift_}; }

    // Fine bin f (count ftot[f]) goes to the bucket its first item would fill in a split
    // of the n items into nb equal parts: a bucket overshoots by at most one fine bin.
    void cut(const std::size_t* ftot, std::size_t n, std::size_t nb) {
        tab_.resize(nfine_);
        std::size_t before = 0;
        for (std::size_t f = 0; f < nfine_; ++f) {
            tab_[f] = static_cast<std::uint16_t>(std::min(nb - 1, before * nb / n));
            before += ftot[f];
        }
    }

    std::size_t bucket_of_fine(std::size_t f) const { return tab_[f]; }

private:
    // Sub-bins per coarse bin stay few enough that the fine histogram sits in L2.
    static constexpr unsigned kMaxSubBits = 14;
    std::vector<Sub> sub_;
    std::vector<std::uint16_t> tab_;
    unsigned cshift_ = 0;
    K cmask_ = 0;
    std::size_t nfine_ = 0;
};

}  // namespace supervm::sort
