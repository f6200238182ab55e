// Single-threaded sort of one bucket that fits in L2 (or L3, up to kDirectBucketBytes): LSD
// passes over its top varying bits.
//
// Only about log2(m) + kExtraBits of the highest varying bits are sorted by LSD passes (one
// histogram read for all of them, constant digits skipped); the runs that still share those
// bits are then tiny and finished by insertion sort, or recursed into when they are not.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "sort/bits.hpp"
#include "sort/buffer.hpp"
#include "sort/engine.hpp"
#include "sort/insertion.hpp"
#include "sort/items.hpp"

namespace supervm::sort {

constexpr unsigned kMaxLsdPasses = 4;

// One LSD pass: stable scatter of src into dst by the digit at `shift`, given its counts.
template <class Item>
void lsd_scatter(const Item* src, Item* dst, std::size_t m, unsigned shift, std::uint32_t* cnt,
                 std::size_t nb) {
    using K = item_key_t<Item>;
    const K mask = static_cast<K>(nb - 1);
    std::uint32_t sum = 0;
    for (std::size_t d = 0; d < nb; ++d) {
        std::uint32_t c = cnt[d];
        cnt[d] = sum;
        sum += c;
    }
    for (std::size_t i = 0; i < m; ++i) {
        Item it = src[i];
        dst[cnt[(item_key(it) >> shift) & mask]++] = it;
    }
}

// Count every pass's digit in one read of the bucket.
template <class Item>
void lsd_histograms(const Item* a, std::size_t m, unsigned shift0, unsigned w, unsigned passes,
                    std::uint32_t (*cnt)[std::size_t(1) << kLsdMaxBits]) {
    using K = item_key_t<Item>;
    const K mask = static_cast<K>((K(1) << w) - 1);
    for (unsigned j = 0; j < passes; ++j) std::fill_n(cnt[j], std::size_t(1) << w, 0u);
    if (passes == 1) {
        for (std::size_t i = 0; i < m; ++i) cnt[0][(item_key(a[i]) >> shift0) & mask]++;
    } else if (passes == 2) {
        // Two items per step into two counter copies: runs of equal digits do not chain.
        std::uint32_t extra[2][std::size_t(1) << kLsdMaxBits];
        std::fill_n(extra[0], std::size_t(1) << w, 0u);
        std::fill_n(extra[1], std::size_t(1) << w, 0u);
        std::size_t i = 0;
        for (; i + 2 <= m; i += 2) {
            K k = item_key(a[i]) >> shift0, l = item_key(a[i + 1]) >> shift0;
            cnt[0][k & mask]++;
            cnt[1][(k >> w) & mask]++;
            extra[0][l & mask]++;
            extra[1][(l >> w) & mask]++;
        }
        if (i < m) {
            K k = item_key(a[i]) >> shift0;
            cnt[0][k & mask]++;
            cnt[1][(k >> w) & mask]++;
        }
        for (std::size_t d = 0; d < (std::size_t(1) << w); ++d) {
            cnt[0][d] += extra[0][d];
            cnt[1][d] += extra[1][d];
        }
    } else {
        for (std::size_t i = 0; i < m; ++i) {
            K k = item_key(a[i]) >> shift0;
            for (unsigned j = 0; j < passes; ++j) cnt[j][(k >> (j * w)) & mask]++;
        }
    }
}

template <class Item, class Finish>
void bucket_sort(Item* src, Item* dst, std::size_t m, unsigned lo, Workspace<Item>& ws,
                 const Finish& finish) {
    using K = item_key_t<Item>;
    auto place = [&](const Item* cur) {
        if (cur != dst) std::memcpy(dst, cur, m * sizeof(Item));
    };
    if (m <= kInsertionItems) {
        place(src);
        insertion_sort(dst, m, lo);
        finish(dst, m);
        return;
    }
    if (m > direct_items<Item>()) {
        // Too big for L3 passes: partition first, into dst when it is free, else a thread buffer.
        Item* part = src == dst ? ws.take_part(m) : dst;
        if (part) {
            msd_pass(ArraySource<Item>{src}, m, part, dst, 1, src == dst, lo, finish, &ws);
            if (part != dst) ws.give_part();
        } else {
            Scratch<Item> tmp(m);
            msd_pass(ArraySource<Item>{src}, m, tmp.get(), dst, 1, true, lo, finish, &ws);
        }
        return;
    }
    K orv = 0, andv = ~K(0);
    if (src != dst) {
        // Copy in order first: later passes then write to dst lines already in cache,
        // instead of missing on them in random order.
        for (std::size_t i = 0; i < m; ++i) {
            Item it = src[i];
            dst[i] = it;
            orv |= item_key(it);
            andv &= item_key(it);
        }
        src = dst;
    } else {
        for (std::size_t i = 0; i < m; ++i) {
            K k = item_key(src[i]);
            orv |= k;
            andv &= k;
        }
    }
    K vary = (orv ^ andv) & static_cast<K>(~K(0) << lo);
    if (vary == 0) {
        place(src);
        finish(dst, m);
        return;
    }
    unsigned hi = high_bit(vary), lowest = low_bit(vary);
    unsigned width = hi + 1 - lowest;
    unsigned need = std::min(width, static_cast<unsigned>(std::max(1, int(ceil_log2(m)) + kExtraBits)));
    unsigned passes = std::min(kMaxLsdPasses, (need + kLsdMaxBits - 1) / kLsdMaxBits);
    unsigned w = std::min(kLsdMaxBits, (std::min(width, passes * kLsdMaxBits) + passes - 1) / passes);
    unsigned span = passes * w;
    unsigned shift0 = hi + 1 >= span ? hi + 1 - span : 0;

    std::uint32_t cnt[kMaxLsdPasses][std::size_t(1) << kLsdMaxBits];
    lsd_histograms(src, m, shift0, w, passes, cnt);
    const K mask = static_cast<K>((K(1) << w) - 1);
    // Digits shared by the whole bucket need no pass (counts do not depend on the order).
    unsigned todo[kMaxLsdPasses];
    unsigned p = 0;
    for (unsigned j = 0; j < passes; ++j)
        if (cnt[j][(item_key(src[0]) >> (shift0 + j * w)) & mask] != m) todo[p++] = j;
    // Alternate targets so that the last pass writes dst (src == dst cannot be a target first).
    Item* scratch = ws.lsd(m);
    Item* cur = src;
    for (unsigned q = 0; q < p; ++q) {
        Item* to = q == 0 ? (p % 2 == 1 && src != dst ? dst : scratch) : (cur == scratch ? dst : scratch);
        unsigned j = todo[q];
        lsd_scatter(cur, to, m, shift0 + j * w, cnt[j], std::size_t(1) << w);
        cur = to;
    }
    place(cur);
    if (shift0 > lowest) {
        // Runs sharing every sorted bit still differ below shift0.
        auto finish_run = [&](std::size_t b, std::size_t e) {
            if (e - b > kInsertionItems)
                bucket_sort(dst + b, dst + b, e - b, lo, ws, NoFinish{});
            else
                insertion_sort(dst + b, e - b, lo);
        };
        std::size_t run = 0;
        K prev = item_key(dst[0]) >> shift0;
        for (std::size_t i = 1; i < m; ++i) {
            K k = item_key(dst[i]) >> shift0;
            if (k != prev) {
                if (i - run > 1) finish_run(run, i);
                run = i;
                prev = k;
            }
        }
        if (m - run > 1) finish_run(run, m);
    }
    finish(dst, m);
}

}  // namespace supervm::sort
