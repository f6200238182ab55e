// Scratch array of trivially copyable items, uninitialized, backed by huge pages if possible;
// a large one is handed on to the next call through ScratchCache.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#include "sort/scratch_cache.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace supervm::sort {

template <class Item>
class Scratch {
public:
    explicit Scratch(std::size_t n) {
        constexpr std::size_t kHuge = std::size_t(2) << 20;
        std::size_t bytes = n * sizeof(Item);
        // Large buffers: 2 MiB alignment and huge pages cut page faults and TLB misses.
        align_ = bytes >= kHuge ? kHuge : 64;
        bytes = (bytes + align_ - 1) / align_ * align_;
        if (bytes == 0) bytes = align_;
        p_ = static_cast<Item*>(ScratchCache::take(bytes, align_, &bytes_));
        if (p_) return;
        bytes_ = bytes;
        p_ = static_cast<Item*>(std::aligned_alloc(align_, bytes));
        if (!p_) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (align_ == kHuge) madvise(p_, bytes, MADV_HUGEPAGE);
#endif
    }
    ~Scratch() { ScratchCache::give(p_, bytes_, align_); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    Item* get() const { return p_; }

private:
    Item* p_;
    std::size_t bytes_ = 0, align_ = 0;
};

}  // namespace supervm::sort
