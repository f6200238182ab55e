// One thread's reusable buffers: LSD scratch (stays warm in L2 from bucket to bucket) and a
// partition buffer for buckets too big for L2.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>

#include "sort/buffer.hpp"

namespace supervm::sort {

template <class Item>
class Workspace {
public:
    // Scratch for the LSD passes of one in-cache bucket of m items.
    Item* lsd(std::size_t m) { return grow(lsd_, lsd_n_, m); }

    // Partition buffer of m items, or null while an outer level still holds it.
    Item* take_part(std::size_t m) {
        if (part_busy_) return nullptr;
        part_busy_ = true;
        return grow(part_, part_n_, m);
    }
    void give_part() { part_busy_ = false; }

private:
    static Item* grow(std::unique_ptr<Scratch<Item>>& p, std::size_t& n, std::size_t m) {
        if (n < m) {
            n = std::max(m, n + n / 2);
            p = std::make_unique<Scratch<Item>>(n);
        }
        return p->get();
    }
    std::unique_ptr<Scratch<Item>> lsd_, part_;
    std::size_t lsd_n_ = 0, part_n_ = 0;
    bool part_busy_ = false;
};

}  // namespace supervm::sort
