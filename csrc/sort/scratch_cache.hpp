// One freed large scratch buffer, kept for the next call that fits in it.
//
// A fresh buffer costs the kernel's zeroing of every page it touches: for a 10M argsort's
// 160 MB of (key, index) pairs that was 40-75% of the call here, where freed memory goes
// back to the hypervisor and is faulted in again (clear_page_erms in the profile). A reused
// buffer costs nothing. One slot, and only buffers up to 1/16 of physical memory, so what
// is held between calls stays small next to the data the caller sorts.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <mutex>

#if defined(__unix__)
#include <unistd.h>
#endif

namespace supervm::sort {

class ScratchCache {
public:
    // Buffers smaller than this come and go through malloc: their zeroing is cheap.
    static constexpr std::size_t kMinBytes = std::size_t(16) << 20;

    // A kept buffer of at least `bytes` (and at most twice that, so a small request does
    // not pin a huge one) aligned to `align`; its capacity in `*capacity`. Null: none.
    static void* take(std::size_t bytes, std::size_t align, std::size_t* capacity) {
        if (bytes < kMinBytes) return nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        if (!kept_ || kept_bytes_ < bytes || kept_bytes_ > 2 * bytes || kept_align_ < align)
            return nullptr;
        void* p = kept_;
        *capacity = kept_bytes_;
        kept_ = nullptr;
        kept_bytes_ = 0;
        return p;
    }

    // Keep `p` (capacity `bytes`, aligned to `align`) for a later call, or free it.
    static void give(void* p, std::size_t bytes, std::size_t align) {
        if (bytes < kMinBytes || bytes > limit()) {
            std::free(p);
            return;
        }
        void* old = nullptr;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            old = kept_;
            kept_ = p;
            kept_bytes_ = bytes;
            kept_align_ = align;
        }
        std::free(old);  // the newest is the likeliest to fit the next call of the same job
    }

    // Bytes held now (for tests and for callers that watch memory).
    static std::size_t held() {
        std::lock_guard<std::mutex> lock(mutex_);
        return kept_bytes_;
    }

    // Free the kept buffer.
    static void release() {
        void* old = nullptr;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            old = kept_;
            kept_ = nullptr;
            kept_bytes_ = 0;
        }
        std::free(old);
    }

    // The largest buffer kept: 1/16 of physical memory.
    static std::size_t limit() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (pages > 0 && page > 0)
            return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 16;
#endif
        return 0;
    }

private:
    static inline std::mutex mutex_;
    static inline void* kept_ = nullptr;
    static inline std::size_t kept_bytes_ = 0;
    static inline std::size_t kept_align_ = 0;
};

}  // namespace supervm::sort
