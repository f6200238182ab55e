// Thread helpers shared by every kernel: resolve a thread count, run a body on N threads.
//
// Kernels spawn plain std::threads per call instead of keeping a pool: calls are coarse
// (millions of elements), start-up is tens of microseconds, and nothing lingers between
// calls to fight with MPI ranks or the interpreter.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace supervm {

// Return the number of hardware threads, at least one.
inline int hardware_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

// Resolve a requested thread count: <= 0 means every core.
inline int resolve_threads(int requested) {
    return requested <= 0 ? hardware_threads() : requested;
}

// Cap a thread count so that each thread gets at least `min_per_thread` items.
inline int threads_for(std::size_t n, int threads, std::size_t min_per_thread) {
    threads = resolve_threads(threads);
    std::size_t useful = std::max<std::size_t>(1, n / std::max<std::size_t>(1, min_per_thread));
    return static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(threads), useful));
}

// Half-open range [begin, end) of thread `tid` when `n` items are split over `nthreads`.
struct Range {
    std::size_t begin;
    std::size_t end;
};

inline Range split_range(std::size_t n, int nthreads, int tid) {
    std::size_t base = n / static_cast<std::size_t>(nthreads);
    std::size_t extra = n % static_cast<std::size_t>(nthreads);
    std::size_t t = static_cast<std::size_t>(tid);
    std::size_t begin = t * base + std::min(t, extra);
    return {begin, begin + base + (t < extra ? 1 : 0)};
}

// Call body(tid) for tid in [0, nthreads); tid 0 runs on the calling thread.
// The first exception thrown by any body is rethrown after every thread has joined.
template <class Body>
void parallel_for(int nthreads, Body&& body) {
    if (nthreads <= 1) {
        body(0);
        return;
    }
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(nthreads));
    std::vector<std::thread> workers;
    workers.reserve(static_cast<std::size_t>(nthreads - 1));
    for (int tid = 1; tid < nthreads; ++tid) {
        workers.emplace_back([&, tid] {
            try {
                body(tid);
            } catch (...) {
                errors[static_cast<std::size_t>(tid)] = std::current_exception();
            }
        });
    }
    try {
        body(0);
    } catch (...) {
        errors[0] = std::current_exception();
    }
    for (auto& w : workers) w.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace supervm
