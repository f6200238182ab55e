// sort_copy: keys are mapped to ordered unsigned integers on the way into `out`, radix
// sorted there (per-thread scratch holds the other half of each in-cache pass), and mapped
// back bucket by bucket while each bucket is still in cache.
#include "sort/sort.hpp"

#include "common/parallel.hpp"
#include "sort/buffer.hpp"
#include "sort/engine.hpp"
#include "sort/insertion.hpp"
#include "sort/key_map.hpp"

namespace supervm::sort {

template <class T>
void sort_copy(const T* in, T* out, std::size_t n, int threads) {
    using K = key_t<T>;
    using Map = KeyMap<T>;
    // The sort works on the keys' bits in place of the values, in `out` itself.
    K* o = reinterpret_cast<K*>(out);
    auto load = [in](std::size_t i) { return Map::to_key(in[i]); };
    auto unmap = [](K* p, std::size_t m) {
        for (std::size_t i = 0; i < m; ++i) p[i] = Map::from_key(p[i]);
    };
    if (n <= kInsertionItems) {
        for (std::size_t i = 0; i < n; ++i) o[i] = load(i);
        insertion_sort(o, n, 0);
        unmap(o, n);
        return;
    }
    if (n <= bucket_items<K>()) {
        Workspace<K> ws;
        for (std::size_t i = 0; i < n; ++i) o[i] = load(i);
        bucket_sort(o, o, n, 0, ws, unmap);
        return;
    }
    // Partition straight from `in` into `out`; buckets then sort in place with small scratch.
    int nt = threads_for(n, threads, kMinItemsPerThread);
    msd_pass(load, n, o, o, nt, false, 0, unmap, static_cast<Workspace<K>*>(nullptr));
}

template void sort_copy<std::int32_t>(const std::int32_t*, std::int32_t*, std::size_t, int);
template void sort_copy<std::int64_t>(const std::int64_t*, std::int64_t*, std::size_t, int);
template void sort_copy<std::uint32_t>(const std::uint32_t*, std::uint32_t*, std::size_t, int);
template void sort_copy<std::uint64_t>(const std::uint64_t*, std::uint64_t*, std::size_t, int);
template void sort_copy<float>(const float*, float*, std::size_t, int);
template void sort_copy<double>(const double*, double*, std::size_t, int);

}  // namespace supervm::sort
