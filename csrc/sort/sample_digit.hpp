// The first pass's digit, chosen from a sample so that a skewed input is read once less.
//
// On skewed keys (floats) the full path reads the input once for a coarse histogram and
// once more for the wide digit's counts. A sample of contiguous chunks spread over the
// input (prefetch-friendly, unlike single random items) makes the choice instead (and judges
// the wide digit's largest bucket better than the coarse histogram can); the one full read
// then counts the wide digit and folds OR/AND, which verifies the prediction.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "sort/bits.hpp"
#include "sort/digit_choice.hpp"
#include "sort/engine.hpp"
#include "sort/items.hpp"
#include "sort/tuning.hpp"

namespace supervm::sort {

// Digit width that splits n items into buckets that sort in L2.
template <class Item>
unsigned msd_bits(std::size_t n) {
    std::size_t buckets = (n + bucket_items<Item>() - 1) / bucket_items<Item>();
    return std::clamp(ceil_log2(buckets), 1u, kMsdMaxBits);
}

// Whether the plain digit of `bits` bits from the top varying bit `hi` (coarse counts ctot
// of the bins at `cshift`) is badly skewed: over 1/kSkewShare of the n items would sit in
// buckets too big to sort well. On several threads those are the buckets partitioned again
// on all of them (or by one thread while the others idle); many moderate buckets (floats of
// many magnitudes) are left to the plain digit there: their second pass runs per bucket,
// mostly in cache, and costs less than the extra read and table lookups (measured). One
// thread (a rank) partitions every bucket over twice the in-cache size again on its own,
// from memory: there a wider digit or equal-count buckets win (measured, 50M on one
// thread: normal float32 ~970-1020 -> ~780-870 ms, uniform [0, 1) float64 ~1260-1300 ->
// ~960-1200 ms, float64 spread over 70 octaves ~1240-1450 -> ~1130 ms).
template <class Item>
bool plain_digit_is_skewed(const std::size_t* ctot, std::size_t ncb, unsigned cshift,
                           unsigned hi, unsigned lowest, unsigned bits, std::size_t n,
                           std::size_t nt) {
    std::size_t nb = std::size_t(1) << bits;
    std::size_t limit = 2 * std::max(n / nb, bucket_items<Item>());
    if (nt > 1) limit = std::max(limit, n / (4 * nt));
    return skewed_items(ctot, ncb, hi + 1 - bits - cshift, nb, limit) > n / kSkewShare &&
           cshift > lowest;
}

// The wide plain digit's width (see wide_width) from a full coarse histogram, for buckets
// of about two in-cache ones (the even spread underestimates: within an octave of normal
// floats the largest bucket is ~1.6x the mean, still a direct one).
template <class Item>
unsigned wide_digit_bits(const std::size_t* ctot, std::size_t ncb, unsigned cshift, unsigned hi,
                         unsigned lowest, unsigned bits) {
    return wide_width(ctot, ncb, cshift, hi, lowest, bits, 2 * bucket_items<Item>(),
                      [](unsigned, std::size_t spread) { return spread; });
}

// Largest run of sorted `keys` sharing the bits at and above `shift`.
template <class K>
std::size_t largest_run(const std::vector<K>& keys, unsigned shift) {
    std::size_t best = 0, run = 0;
    K prev = keys.empty() ? K(0) : keys[0] >> shift;
    for (K k : keys) {
        k >>= shift;
        run = k == prev ? run + 1 : 1;
        prev = k;
        best = std::max(best, run);
    }
    return best;
}

// A plain digit of `bits` bits whose top bit is `hi`; bits == 0: none.
struct WideDigit {
    unsigned hi = 0;
    unsigned bits = 0;
};

// The wide digit the full path would pick for these n items on nt threads, judged from a
// sample; none when the sample is not skewed (the plain digit needs one read anyway).
template <class Item, class Src>
WideDigit sampled_wide_digit(const Src& src, std::size_t n, unsigned lo, std::size_t nt) {
    using K = item_key_t<Item>;
    constexpr std::size_t kChunks = 256, kChunk = 256;
    if (n < kSampleMinItems) return {};
    std::vector<K> keys(kChunks * kChunk);
    for (std::size_t c = 0; c < kChunks; ++c) {
        std::size_t b = c * (n - kChunk) / (kChunks - 1);
        for (std::size_t i = 0; i < kChunk; ++i) keys[c * kChunk + i] = item_key(src(b + i));
    }
    K orv = 0, andv = ~K(0);
    for (K k : keys) {
        orv |= k;
        andv &= k;
    }
    K vary = (orv ^ andv) & static_cast<K>(~K(0) << lo);
    if (vary == 0) return {};
    unsigned hi = high_bit(vary), lowest = low_bit(vary);
    unsigned cbits = std::min(kCoarseBits, hi + 1 - lowest);
    unsigned cshift = hi + 1 - cbits;
    std::size_t ncb = std::size_t(1) << cbits;
    // Sample counts scaled to the whole input (rounded up: a seen bin is never empty).
    std::vector<std::size_t> ctot(ncb, 0);
    for (K k : keys) ctot[(k >> cshift) & (ncb - 1)]++;
    for (std::size_t& c : ctot) c = (c * n + keys.size() - 1) / keys.size();
    // The same tests as the full path (msd_pass).
    unsigned bits = std::min(msd_bits<Item>(n), cbits);
    if (!plain_digit_is_skewed<Item>(ctot.data(), ncb, cshift, hi, lowest, bits, n, nt)) return {};
    // The largest bucket of each width is read off the sorted sample, scaled to n: the even
    // spread of a coarse bin misjudges it by 1.6x on normal float64, where the choice
    // between 17 and 18 bits is worth ~10%. Sorting 64K keys costs well under 1 ms.
    Workspace<K> ws;
    bucket_sort(keys.data(), keys.data(), keys.size(), 0, ws, NoFinish{});
    auto largest = [&](unsigned w, std::size_t) {
        return (largest_run(keys, hi + 1 - w) * n + keys.size() - 1) / keys.size();
    };
    return {hi, wide_width(ctot.data(), ncb, cshift, hi, lowest, bits, direct_items<Item>(),
                           largest)};
}

}  // namespace supervm::sort
