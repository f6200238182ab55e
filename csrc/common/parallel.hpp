// Thread helpers shared by every kernel: resolve a thread count, run a body on N threads.
//
// Kernels spawn plain std::threads per call instead of keeping a pool: calls are coarse
// (millions of elements), start-up is tens of microseconds, and nothing lingers between
// calls to fight with MPI ranks or the interpreter (a late helper of run_tasks ends as soon
// as it runs).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
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

// Call body(tid, task) once for every task in [0, tasks), claimed one at a time from a
// shared counter by up to `nthreads` threads (tid 0 is the caller). Returns as soon as every
// task is done, not when every thread has ended: on a shared machine a helper's core may be
// busy with another tenant for milliseconds, and a helper that starts late now finds
// nothing left and ends on its own instead of holding the caller at a join. A helper that
// cannot be started leaves its share to the others. The first exception thrown by body is
// rethrown once every task is done.
template <class Body>
void run_tasks(int nthreads, std::size_t tasks, const Body& body) {
    if (nthreads <= 1 || tasks <= 1) {
        for (std::size_t t = 0; t < tasks; ++t) body(0, t);
        return;
    }
    // Owned by every thread that may still look at it; body only by those holding a task.
    struct Shared {
        std::atomic<std::size_t> next{0};
        std::size_t done = 0;  // guarded by m
        std::exception_ptr error;
        std::mutex m;
        std::condition_variable all_done;
    };
    auto shared = std::make_shared<Shared>();
    const Body* fn = &body;
    auto work = [shared, fn, tasks](int tid) {
        for (std::size_t t; (t = shared->next.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
            std::exception_ptr error;
            try {
                (*fn)(tid, t);
            } catch (...) {
                error = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(shared->m);
            if (error && !shared->error) shared->error = error;
            if (++shared->done == tasks) shared->all_done.notify_all();
        }
    };
    for (int tid = 1; tid < nthreads; ++tid) {
        try {
            std::thread(work, tid).detach();
        } catch (const std::system_error&) {
            break;  // no more threads to be had: the caller and the started ones do it all
        }
    }
    work(0);
    std::unique_lock<std::mutex> lock(shared->m);
    shared->all_done.wait(lock, [&] { return shared->done == tasks; });
    if (shared->error) std::rethrow_exception(shared->error);
}

}  // namespace supervm
