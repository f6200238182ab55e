// Parallel partition pass: histogram the highest varying digit, scatter, sort the buckets.
//
// The first read computes the OR and AND of all keys (bits that never change are skipped)
// together with a histogram of the top digit, valid whenever the top key bit varies; small
// ranges pay one more histogram read. Buckets too big for one thread's share are partitioned
// again on all threads; the rest are handed out one at a time from an atomic counter.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/parallel.hpp"
#include "sort/bits.hpp"
#include "sort/buffer.hpp"
#include "sort/engine.hpp"
#include "sort/histogram.hpp"
#include "sort/items.hpp"
#include "sort/scatter.hpp"
#include "sort/workspace.hpp"

namespace supervm::sort {

// Digit width that splits n items into buckets that sort in L2.
template <class Item>
unsigned msd_bits(std::size_t n) {
    std::size_t buckets = (n + bucket_items<Item>() - 1) / bucket_items<Item>();
    return std::clamp(ceil_log2(buckets), 1u, kMsdMaxBits);
}

template <class Item, class Src, class Finish>
void msd_pass(const Src& src, std::size_t n, Item* part, Item* final_, int nt, bool src_is_final,
              unsigned lo, const Finish& finish, Workspace<Item>* ws) {
    using K = item_key_t<Item>;
    constexpr unsigned W = 8 * sizeof(K);
    unsigned bits = msd_bits<Item>(n);
    unsigned shift = W - bits;
    std::size_t nb = std::size_t(1) << bits;
    std::vector<std::size_t> hist(static_cast<std::size_t>(nt) * nb);
    std::vector<K> ors(static_cast<std::size_t>(nt)), ands(static_cast<std::size_t>(nt));
    parallel_for(nt, [&](int t) {
        Range r = split_range(n, nt, t);
        std::size_t u = static_cast<std::size_t>(t);
        count_digits<Item>(src, r.begin, r.end, shift, static_cast<K>(nb - 1), hist.data() + u * nb, ors[u],
                           ands[u]);
    });
    K orv = 0, andv = ~K(0);
    for (int t = 0; t < nt; ++t) {
        orv |= ors[static_cast<std::size_t>(t)];
        andv &= ands[static_cast<std::size_t>(t)];
    }
    K vary = (orv ^ andv) & static_cast<K>(~K(0) << lo);
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
    unsigned nbits = std::min(bits, hi + 1 - lowest);
    unsigned nshift = hi + 1 - nbits;
    if (nshift != shift) {
        bits = nbits;
        shift = nshift;
        nb = std::size_t(1) << bits;
        hist.assign(static_cast<std::size_t>(nt) * nb, 0);
        parallel_for(nt, [&](int t) {
            Range r = split_range(n, nt, t);
            std::size_t u = static_cast<std::size_t>(t);
            K o, a;
            count_digits<Item>(src, r.begin, r.end, shift, static_cast<K>(nb - 1), hist.data() + u * nb, o, a);
        });
    }
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
        scatter(src, r.begin, r.end, part, hist.data() + static_cast<std::size_t>(t) * nb, shift, nb);
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
    std::atomic<std::size_t> next{0};
    parallel_for(nt, [&](int) {
        Workspace<Item> own;
        Workspace<Item>& w = nt == 1 && ws ? *ws : own;
        for (;;) {
            std::size_t d = next.fetch_add(1, std::memory_order_relaxed);
            if (d >= nb) break;
            std::size_t s = start[d], c = start[d + 1] - s;
            if (c == 0 || is_big(c)) continue;
            bucket_sort(part + s, final_ + s, c, lo, w, finish);
        }
    });
}

}  // namespace supervm::sort
