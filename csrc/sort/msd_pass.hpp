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
    const std::size_t ntz = static_cast<std::size_t>(nt);
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
    K orv = 0, andv = ~K(0);
    for (std::size_t t = 0; t < ntz; ++t) {
        orv |= ors[t];
        andv &= ands[t];
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
    // Items in buckets that would be partitioned again on all threads (or by one thread
    // while the others idle). Many moderate buckets (floats of many magnitudes) are left
    // to the plain digit: their second pass runs per bucket, mostly in cache, and costs
    // less than the extra read and table lookups (measured).
    std::size_t limit = std::max(2 * std::max(n / nb, bucket_items<Item>()), n / (4 * ntz));
    std::size_t skewed = 0;
    for (std::size_t d = 0; d < nb; ++d) {
        std::size_t c = 0;
        for (std::size_t t = 0; t < ntz; ++t) c += hist[t * nb + d];
        if (c > limit) skewed += c;
    }
    // Only the first pass (reading the caller's input, not a bucket) may map: a mapped
    // bucket can span as many key bits as its parent, so a mapped pass on it need not make
    // progress, while the plain digit always narrows the varying bits.
    constexpr bool first_pass = !std::is_same_v<Src, ArraySource<Item>>;
    BucketMap<K> map;
    bool mapped = first_pass && skewed > n / kSkewShare && cshift > lowest;
    if (mapped) {
        // A wider plain digit usually beats the table: the scatter costs by open (non-empty)
        // buckets, not by the size of the sparse offset array. Take the narrowest width,
        // from the top varying bit, whose largest bucket (coarse counts taken as spread
        // evenly below each coarse bin) is about two in-cache buckets, while at most
        // kWideMaxActive buckets are non-empty (else the table); its histogram is one more
        // plain read.
        // Measured (50M normal, 2 threads, noisy): float64 picks 18 bits (~2.8K open),
        // ~490-600 -> ~425-480 ms; float32 picks 15 bits, ~420-470 -> ~320-375 ms.
        unsigned maxw = std::min(hi + 1 - lowest, kWideMaxBits);
        std::size_t target = 2 * bucket_items<Item>();
        std::size_t cmax = 0;
        for (std::size_t c = 0; c < ncb; ++c) cmax = std::max(cmax, ctot[c]);
        // Widths reach below the coarse digit, so each coarse bin splits into 2**extra.
        unsigned pick = 0;
        for (unsigned w = std::max(bits, hi + 1 - cshift) + 1; w <= maxw; ++w) {
            unsigned extra = cshift - (hi + 1 - w);
            std::size_t active = 0;
            for (std::size_t c = 0; c < ncb; ++c)
                if (ctot[c]) active += std::min(std::size_t(1) << extra, ctot[c]);
            if (active > kWideMaxActive) break;
            if ((cmax >> extra) <= target) {
                pick = w;
                break;
            }
        }
        if (pick) {
            mapped = false;
            bits = pick;
            shift = hi + 1 - bits;
            nb = std::size_t(1) << bits;
            hist.assign(ntz * nb, 0);
            parallel_for(nt, [&](int t) {
                Range r = split_range(n, nt, t);
                const unsigned sh = shift;
                const K mk = static_cast<K>(nb - 1);
                count_bins<Item>(src, r.begin, r.end, nb, [sh, mk](K k) { return (k >> sh) & mk; },
                                 hist.data() + static_cast<std::size_t>(t) * nb);
            });
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
            count_bins<Item>(src, r.begin, r.end, nf, [v](K k) { return v.fine(k); },
                             fine.data() + static_cast<std::size_t>(t) * nf);
        });
        for (std::size_t t = 0; t < ntz; ++t)
            for (std::size_t f = 0; f < nf; ++f) ftot[f] += fine[t * nf + f];
        map.cut(ftot.data(), n, nb);
        for (std::size_t t = 0; t < ntz; ++t)
            for (std::size_t f = 0; f < nf; ++f) hist[t * nb + map.bucket_of_fine(f)] += fine[t * nf + f];
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
        std::size_t* pos = hist.data() + static_cast<std::size_t>(t) * nb;
        if (mapped)
            scatter_mapped(src, r.begin, r.end, part, pos, map.view());
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

}  // namespace supervm::sort
