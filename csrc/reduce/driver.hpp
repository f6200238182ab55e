// Shared driver for the chunk kernels: choose the AVX2 or baseline build once, cut the
// array into chunks, let threads take chunks from a shared counter, merge in order.
//
// Chunks are taken dynamically rather than one static half per thread because this
// machine is shared: when one thread is descheduled the other keeps pulling work
// instead of idling at the join. Results are kept per chunk and merged in chunk order,
// so a given (n, threads) always gives bit-identical results.
#pragma once

#include <cstddef>
#include <vector>

#include "common/cpu_features.hpp"
#include "common/parallel.hpp"

namespace supervm::reduce::detail {

// Fewer elements than this per thread cost more in thread start-up (tens of us) than
// they save: 64K doubles take ~25 us to stream on one core.
constexpr std::size_t kMinPerThread = std::size_t(1) << 16;

// Chunks per thread: enough to rebalance around a descheduled thread, few enough that
// each chunk (>= 8K elements) streams well.
constexpr std::size_t kChunksPerThread = 32;
constexpr std::size_t kMinChunk = std::size_t(1) << 13;

// Pick the AVX2 build of a kernel when the CPU has it.
template <class Fn>
Fn pick(Fn avx2_version, Fn base_version) {
    return cpu_has_avx2_fma() ? avx2_version : base_version;
}

// How a[0..n) is cut: `threads` workers sharing `chunks` contiguous pieces.
struct ChunkPlan {
    int threads;
    std::size_t chunks;
};

inline ChunkPlan plan_chunks(std::size_t n, int threads) {
    const int nt = threads_for(n, threads, kMinPerThread);
    if (nt <= 1) return {1, 1};
    std::size_t chunks = static_cast<std::size_t>(nt) * kChunksPerThread;
    const std::size_t most = n / kMinChunk;
    if (chunks > most) chunks = most > static_cast<std::size_t>(nt) ? most : nt;
    return {nt, chunks};
}

// Call body(tid, chunk, begin, end) once for every chunk of the plan, chunks handed out
// dynamically over plan.threads threads (tid 0 is the caller; one thread spawns none).
template <class Body>
void for_each_chunk(std::size_t n, const ChunkPlan& plan, Body&& body) {
    run_tasks(plan.threads, plan.chunks, [&](int tid, std::size_t c) {
        Range r = split_range(n, static_cast<int>(plan.chunks), static_cast<int>(c));
        body(tid, c, r.begin, r.end);
    });
}

// Run state = kernel(chunk) on every chunk of a[0..n) and fold the states left to right
// with merge_fn. n == 0 runs the kernel once on an empty range.
template <class State, class T, class Kernel, class Merge>
State run_chunks(const T* a, std::size_t n, int threads, Kernel kernel, Merge merge_fn) {
    const ChunkPlan plan = plan_chunks(n, threads);
    if (plan.threads <= 1) return kernel(a, n);
    std::vector<State> parts(plan.chunks);
    for_each_chunk(n, plan, [&](int, std::size_t c, std::size_t begin, std::size_t end) {
        parts[c] = kernel(a + begin, end - begin);
    });
    State total = parts[0];
    for (std::size_t c = 1; c < parts.size(); ++c) total = merge_fn(total, parts[c]);
    return total;
}

}  // namespace supervm::reduce::detail
