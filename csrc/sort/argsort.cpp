// argsort_stable: the engine is stable, so sorting (key, index) items by key alone gives
// numpy's stable order. Below 2**32 items a 32-bit key and its index pack into one u64
// (key high, index low, sorted on the high half only) that sorts in place inside `out`;
// otherwise items are (u64 key, u64 index) pairs in one scratch array.
#include "sort/sort.hpp"

#include "common/parallel.hpp"
#include "sort/buffer.hpp"
#include "sort/engine.hpp"
#include "sort/insertion.hpp"
#include "sort/items.hpp"
#include "sort/key_map.hpp"

namespace supervm::sort {

namespace {

// Sort items loaded by `load` into `dst`.
template <class Item, class Load, class Finish>
void run_engine(const Load& load, std::size_t n, Item* dst, int threads, unsigned lo,
                const Finish& finish) {
    if (n <= bucket_items<Item>()) {
        Workspace<Item> ws;
        for (std::size_t i = 0; i < n; ++i) dst[i] = load(i);
        bucket_sort(dst, dst, n, lo, ws, finish);
        return;
    }
    int nt = threads_for(n, threads, kMinItemsPerThread);
    msd_pass(load, n, dst, dst, nt, false, lo, finish, static_cast<Workspace<Item>*>(nullptr));
}

// 32-bit key in the high half, index in the low half; `out` holds the items.
template <class T>
void argsort_packed(const T* in, std::int64_t* out, std::size_t n, int threads) {
    using Map = KeyMap<T>;
    auto* o = reinterpret_cast<std::uint64_t*>(out);
    auto load = [in](std::size_t i) {
        return static_cast<std::uint64_t>(Map::to_canonical_key(in[i])) << 32 | i;
    };
    auto to_index = [](std::uint64_t* p, std::size_t m) {
        for (std::size_t i = 0; i < m; ++i) p[i] &= 0xffffffffu;
    };
    run_engine(load, n, o, threads, 32, to_index);
}

// 64-bit key (or any key with n >= 2**32): (key, index) pairs.
template <class T>
void argsort_pairs(const T* in, std::int64_t* out, std::size_t n, int threads) {
    using Map = KeyMap<T>;
    auto load = [in](std::size_t i) {
        return KeyIndex{static_cast<std::uint64_t>(Map::to_canonical_key(in[i])), i};
    };
    Scratch<KeyIndex> a(n);
    KeyIndex* base = a.get();
    auto to_index = [base, out](KeyIndex* p, std::size_t m) {
        std::int64_t* q = out + (p - base);
        for (std::size_t i = 0; i < m; ++i) q[i] = static_cast<std::int64_t>(p[i].index);
    };
    run_engine(load, n, base, threads, 0, to_index);
}

}  // namespace

template <class T>
void argsort_stable(const T* in, std::int64_t* out, std::size_t n, int threads) {
    if (n == 0) return;
    if (n == 1) {
        out[0] = 0;
        return;
    }
    if (sizeof(T) == 4 && n <= (std::size_t(1) << 32))
        argsort_packed(in, out, n, threads);
    else
        argsort_pairs(in, out, n, threads);
}

template void argsort_stable<std::int32_t>(const std::int32_t*, std::int64_t*, std::size_t, int);
template void argsort_stable<std::int64_t>(const std::int64_t*, std::int64_t*, std::size_t, int);
template void argsort_stable<std::uint32_t>(const std::uint32_t*, std::int64_t*, std::size_t, int);
template void argsort_stable<std::uint64_t>(const std::uint64_t*, std::int64_t*, std::size_t, int);
template void argsort_stable<float>(const float*, std::int64_t*, std::size_t, int);
template void argsort_stable<double>(const double*, std::int64_t*, std::size_t, int);

}  // namespace supervm::sort
