// The radix engine's two mutually recursive steps, declared before either is defined.
//
// Items are sorted by the key bits at and above `lo` (argsort packs the index below `lo`).
// Every step is stable. `finish(p, m)` is called exactly once on every finished range of
// the final array, while that range is still in cache.
#pragma once

#include <cstddef>

#include "sort/tuning.hpp"
#include "sort/workspace.hpp"

namespace supervm::sort {

// Number of items that sort inside L2 (data plus scratch).
template <class Item>
constexpr std::size_t bucket_items() {
    return kBucketBytes / sizeof(Item);
}

// Number of items a bucket may hold and still be LSD-sorted without another partition.
template <class Item>
constexpr std::size_t direct_items() {
    return kDirectBucketBytes / sizeof(Item);
}

// Partition the n items read through `src` into `part` by their highest varying digit on
// `nt` threads, then sort every bucket from `part` into the same place of `final_`
// (`part` may be `final_`). `src_is_final` says that `src` already reads `final_`.
// `ws` serves the buckets when nt == 1 (null: a fresh one).
template <class Item, class Src, class Finish>
void msd_pass(const Src& src, std::size_t n, Item* part, Item* final_, int nt, bool src_is_final,
              unsigned lo, const Finish& finish, Workspace<Item>* ws);

// Sort the m items of `src` into `dst` on one thread (`src` may be `dst`).
template <class Item, class Finish>
void bucket_sort(Item* src, Item* dst, std::size_t m, unsigned lo, Workspace<Item>& ws,
                 const Finish& finish);

}  // namespace supervm::sort

#include "sort/bucket_sort.hpp"
#include "sort/msd_pass.hpp"
