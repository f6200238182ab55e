// Parallel partition pass: histogram the highest varying digit, scatter, sort the buckets.
//
// The first read computes the OR and AND of all keys (bits that never change are skipped)
// together with a coarse histogram of the top bits, valid whenever the top key bit varies;
// small ranges pay one more histogram read. When the plain top digit is badly skewed (floats,
// clustered integers) one more read builds equal-count buckets (bucket_map.hpp). Buckets
// too big for one thread's share are partitioned again on all threads; the rest are handed out one at a time from an atomic counter.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "common/parallel.hpp"
#include "sort/bits.hpp"
#include "sort/bucket_map.hpp"
#include "sort/buffer.hpp"
#include "sort/digit_choice.hpp"
#include "sort/engine.hpp"
#include "sort/histogram.hpp"
#include "sort/items.hpp"
#include "sort/sample_digit.hpp"
#include "sort/scatter.hpp"
#include "sort/workspace.hpp"

namespace supervm::sort {

// Scatter the n items of `src` into `part` by the digit (a plain one at `shift`, or the
// map's buckets), given each thread's counts in `hist`, then sort every bucket into the
// same place of `final_` (see msd_pass).
template <class Item, class Src, class Finish>
void scatter_and_sort(const Src& src, std::size_t n, Item* part, Item* final_, int nt,
                      unsigned lo, const Finish& finish, Workspace<Item>* ws,
                      std::vector<std::size_t>& hist, std::size_t nb, unsigned shift,
                      const BucketMap<item_key_t<Item>>* map) {
    // Bucket starts, and each thread's write position inside every bucket (stable order).
    std::vector<std::size_t> start(nb + 1);
    std::size_t total = 0;
    for (std::size_t d = 0; d < nb; ++d) {
        start[d] = total;
        for (int t = 0; t < nt; ++t) {
            std::size_t& h = hist[static_cast<std::size_t>(t) * nb + d];
            std::size_t c = h;
            h = total;
            total += c;
        }
    }
    start[nb] = total;
    parallel_for(nt, [&](int t) {
        Range r = split_range(n, nt, t);
        std::size_t* pos = hist.data() + static_cast<std::size_t>(t) * nb;
        if (map)
            scatter_mapped(src, r.begin, r.end, part, pos, map->view());
        else
            scatter(src, r.begin, r.end, part, pos, shift, nb);
    });

    // A bucket bigger than a fair share of one thread is partitioned again on all threads.
    std::size_t big = std::max(bucket_items<Item>(), n / (4 * static_cast<std::size_t>(nt)));
    auto is_big = [&](std::size_t c) { return nt > 1 && c > big; };
    std::size_t biggest = 0;
    for (std::size_t d = 0; d < nb; ++d)
        if (is_big(start[d + 1] - start[d])) biggest = std::max(biggest, start[d + 1] - start[d]);
    if (biggest) {
        // A big bucket in final_ partitions into one shared temporary; one in a temporary
        // partitions back into its place in final_.
        std::unique_ptr<Scratch<Item>> tmp;
        if (part == final_) tmp = std::make_unique<Scratch<Item>>(biggest);
        for (std::size_t d = 0; d < nb; ++d) {
            std::size_t s = start[d], c = start[d + 1] - s;
            if (!is_big(c)) continue;
            Item* to = tmp ? tmp->get() : final_ + s;
            msd_pass(ArraySource<Item>{part + s}, c, to, final_ + s, nt, part == final_, lo, finish,
                     static_cast<Workspace<Item>*>(nullptr));
        }
    }
    // Buckets left to sort one at a time (a wide digit leaves most of its buckets empty).
    std::vector<std::uint32_t> todo;
    todo.reserve(std::min<std::size_t>(nb, n));
    for (std::size_t d = 0; d < nb; ++d) {
        std::size_t c = start[d + 1] - start[d];
        if (c != 0 && !is_big(c)) todo.push_back(static_cast<std::uint32_t>(d));
    }
    std::atomic<std::size_t> next{0};
    parallel_for(nt, [&](int) {
        Workspace<Item> own;
        Workspace<Item>& w = nt == 1 && ws ? *ws : own;
        for (;;) {
            std::size_t j = next.fetch_add(1, std::memory_order_relaxed);
            if (j >= todo.size()) break;
            std::size_t d = todo[j];
            std::size_t s = start[d], c = start[d + 1] - s;
            bucket_sort(part + s, final_ + s, c, lo, w, finish);
        }
    });
}


// The key bits at and above `lo` that differ between items, from each thread's OR/AND.
template <class K>
K varying_bits(const std::vector<K>& ors, const std::vector<K>& ands, unsigned lo) {
    K orv = 0, andv = ~K(0);
    for (std::size_t t = 0; t < ors.size(); ++t) {
        orv |= ors[t];
        andv &= ands[t];
    }
    return (orv ^ andv) & static_cast<K>(~K(0) << lo);
}

// Each thread's counts of the plain digit of nb buckets at `shift` into `hist` (one read of
// the n items); returns the varying bits at and above `lo`, folded on the way.
template <class Item, class Src>
item_key_t<Item> count_plain_digit(const Src& src, std::size_t n, int nt, unsigned shift,
                                   std::size_t nb, unsigned lo, std::vector<std::size_t>& hist) {
    using K = item_key_t<Item>;
    const std::size_t ntz = static_cast<std::size_t>(nt);
    hist.assign(ntz * nb, 0);
    std::vector<K> ors(ntz, 0), ands(ntz, ~K(0));
    const K mask = static_cast<K>(nb - 1);
    parallel_for(nt, [&](int t) {
        Range r = split_range(n, nt, t);
        std::size_t u = static_cast<std::size_t>(t);
        count_bins<Item>(src, r.begin, r.end, nb, [shift, mask](K k) { return (k >> shift) & mask; },
                         hist.data() + u * nb, ors[u], ands[u]);
    });
    return varying_bits(ors, ands, lo);
}

template <class Item, class Src, class Finish>
void msd_pass(const Src& src, std::size_t n, Item* part, Item* final_, int nt, bool src_is_final,
              unsigned lo, const Finish& finish, Workspace<Item>* ws) {
    using K = item_key_t<Item>;
    constexpr unsigned W = 8 * sizeof(K);
    const std::size_t ntz = static_cast<std::size_t>(nt);
    // Only the first pass reads the caller's input; later ones read a bucket.
    constexpr bool first_pass = !std::is_same_v<Src, ArraySource<Item>>;
    if constexpr (first_pass) {
        if (WideDigit wide = sampled_wide_digit<Item>(src, n, lo, ntz); wide.bits) {
            // One read counts the predicted digit; its OR/AND says whether the bits above
            // the digit are constant, as the sample suggested. Else the full path runs.
            const unsigned shift = wide.hi + 1 - wide.bits;
            const std::size_t nb = std::size_t(1) << wide.bits;
            std::vector<std::size_t> hist;
            K vary = count_plain_digit<Item>(src, n, nt, shift, nb, lo, hist);
            if (vary != 0 && high_bit(vary) == wide.hi) {
                scatter_and_sort(src, n, part, final_, nt, lo, finish, ws, hist, nb, shift,
                                 static_cast<const BucketMap<K>*>(nullptr));
                return;
            }
        }
    }
    // First read: OR/AND of the keys and a coarse histogram of the top bits, valid whenever
    // the top key bit varies (floats of both signs, full-range integers).
    unsigned cbits = kCoarseBits, cshift = W - cbits;
    std::size_t ncb = std::size_t(1) << cbits;
    std::vector<std::size_t> coarse(ntz * ncb);
    std::vector<K> ors(ntz), ands(ntz);
    parallel_for(nt, [&](int t) {
        Range r = split_range(n, nt, t);
        std::size_t u = static_cast<std::size_t>(t);
        count_digits<Item>(src, r.begin, r.end, cshift, static_cast<K>(ncb - 1),
                           coarse.data() + u * ncb, ors[u], ands[u]);
    });
    K vary = varying_bits(ors, ands, lo);
    if (vary == 0) {
        // Every key is equal: only move (if needed) and finish.
        parallel_for(nt, [&](int t) {
            Range r = split_range(n, nt, t);
            if (!src_is_final)
                for (std::size_t i = r.begin; i < r.end; ++i) final_[i] = src(i);
            finish(final_ + r.begin, r.end - r.begin);
        });
        return;
    }
    unsigned hi = high_bit(vary), lowest = low_bit(vary);
    unsigned nbits = std::min(cbits, hi + 1 - lowest);
    if (hi + 1 - nbits < cshift) {
        // The varying top bits reach below the counted ones: count again, aligned to them.
        cbits = nbits;
        cshift = hi + 1 - cbits;
        ncb = std::size_t(1) << cbits;
        coarse.assign(ntz * ncb, 0);
        parallel_for(nt, [&](int t) {
            Range r = split_range(n, nt, t);
            std::size_t u = static_cast<std::size_t>(t);
            K o, a;
            count_digits<Item>(src, r.begin, r.end, cshift, static_cast<K>(ncb - 1),
                               coarse.data() + u * ncb, o, a);
        });
    }
    // The plain digit lies inside the coarse one: its counts are sums of coarse counts.
    unsigned bits = std::min(msd_bits<Item>(n), nbits);
    unsigned shift = hi + 1 - bits;
    std::size_t nb = std::size_t(1) << bits;
    unsigned group = shift - cshift;
    std::vector<std::size_t> hist(ntz * nb, 0), ctot(ncb, 0);
    for (std::size_t t = 0; t < ntz; ++t)
        for (std::size_t c = 0; c < ncb; ++c) {
            hist[t * nb + ((c >> group) & (nb - 1))] += coarse[t * ncb + c];
            ctot[c] += coarse[t * ncb + c];
        }
    // Only the first pass (reading the caller's input, not a bucket) may map: a mapped
    // bucket can span as many key bits as its parent, so a mapped pass on it need not make
    // progress, while the plain digit always narrows the varying bits.
    BucketMap<K> map;
    bool mapped = first_pass &&
                  plain_digit_is_skewed<Item>(ctot.data(), ncb, cshift, hi, lowest, bits, n, ntz);
    if (mapped) {
        // A wider plain digit first (its histogram is one more plain read), else the table.
        if (unsigned pick = wide_digit_bits<Item>(ctot.data(), ncb, cshift, hi, lowest, bits)) {
            mapped = false;
            bits = pick;
            shift = hi + 1 - bits;
            nb = std::size_t(1) << bits;
            count_plain_digit<Item>(src, n, nt, shift, nb, lo, hist);
        }
    }
    if (mapped) {
        // Same bucket count as the plain digit: more open buckets slow the scatter more
        // than smaller buckets speed up their sorts (measured, float32 at 512 vs 1024).
        std::fill(hist.begin(), hist.end(), 0);
        // Second read: fine histogram, cut into nb buckets of about equal count.
        map.plan(ctot.data(), ncb, n, cshift, lowest, kFineBinsPerBucket * nb);
        std::size_t nf = map.fine_bins();
        std::vector<std::size_t> fine(ntz * nf, 0), ftot(nf, 0);
        parallel_for(nt, [&](int t) {
            Range r = split_range(n, nt, t);
            auto v = map.view();
            K o, a;
            count_bins<Item>(src, r.begin, r.end, nf, [v](K k) { return v.fine(k); },
                             fine.data() + static_cast<std::size_t>(t) * nf, o, a);
        });
        for (std::size_t t = 0; t < ntz; ++t)
            for (std::size_t f = 0; f < nf; ++f) ftot[f] += fine[t * nf + f];
        map.cut(ftot.data(), n, nb);
        for (std::size_t t = 0; t < ntz; ++t)
            for (std::size_t f = 0; f < nf; ++f) hist[t * nb + map.bucket_of_fine(f)] += fine[t * nf + f];
    }
    scatter_and_sort(src, n, part, final_, nt, lo, finish, ws, hist, nb, shift,
                     mapped ? &map : nullptr);
}

}  // namespace supervm::sort
