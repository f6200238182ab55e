// Scratch array of trivially copyable items, uninitialized, backed by huge pages if possible.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

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
        std::size_t align = bytes >= kHuge ? kHuge : 64;
        bytes = (bytes + align - 1) / align * align;
        if (bytes == 0) bytes = align;
        p_ = static_cast<Item*>(std::aligned_alloc(align, bytes));
        if (!p_) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (align == kHuge) madvise(p_, bytes, MADV_HUGEPAGE);
#endif
    }
    ~Scratch() { std::free(p_); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    Item* get() const { return p_; }

private:
    Item* p_;
};

}  // namespace supervm::sort
