// histogram_uniform: private count arrays per thread (four per thread for small bin
// counts, so runs of equal bins do not serialise on one counter), summed at the end.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "reduce/driver.hpp"
#include "reduce/kernels.hpp"
#include "reduce/reduce.hpp"

namespace supervm::reduce {

namespace {

// Four copies while they stay cache-resident (4 x 4097 x 8 B = 128 KiB); beyond that
// the counters miss cache anyway and one copy wastes less memory and merge time.
constexpr std::size_t kMaxBinsForCopies = 4096;

}  // namespace

template <class T>
void histogram_uniform(const T* a, std::size_t n, const double* edges, std::size_t bins,
                       std::uint64_t* counts, int threads) {
    if (n == 0 || bins == 0) return;
    auto kernel = detail::pick(&detail::avx2::histogram_chunk<T>,
                               &detail::base::histogram_chunk<T>);
    // Correction table for the kernel: the edges below the last, then two NaNs.
    std::vector<double> lut(edges, edges + bins);
    lut.resize(bins + 2, std::numeric_limits<double>::quiet_NaN());

    const unsigned copies = bins <= kMaxBinsForCopies ? 4u : 1u;
    const detail::ChunkPlan plan = detail::plan_chunks(n, threads);
    const std::size_t stride = bins + 1;  // bins counters and a trash slot
    const std::size_t per_thread = copies * stride;
    const int nt = plan.threads;
    std::vector<std::uint64_t> priv(per_thread * static_cast<std::size_t>(nt), 0);
    detail::for_each_chunk(n, plan, [&](int tid, std::size_t, std::size_t begin, std::size_t end) {
        kernel(a + begin, end - begin, edges, lut.data(), bins,
               priv.data() + per_thread * static_cast<std::size_t>(tid), copies);
    });
    for (std::size_t c = 0; c < copies * static_cast<std::size_t>(nt); ++c) {
        const std::uint64_t* p = priv.data() + c * stride;
        for (std::size_t b = 0; b < bins; ++b) counts[b] += p[b];
    }
}

#define SUPERVM_REDUCE_HISTOGRAM(T)                                                     \
    template void histogram_uniform<T>(const T*, std::size_t, const double*, std::size_t, \
                                       std::uint64_t*, int);
SUPERVM_REDUCE_HISTOGRAM(std::int32_t)
SUPERVM_REDUCE_HISTOGRAM(std::int64_t)
SUPERVM_REDUCE_HISTOGRAM(std::uint32_t)
SUPERVM_REDUCE_HISTOGRAM(std::uint64_t)
SUPERVM_REDUCE_HISTOGRAM(float)
SUPERVM_REDUCE_HISTOGRAM(double)
#undef SUPERVM_REDUCE_HISTOGRAM

}  // namespace supervm::reduce
