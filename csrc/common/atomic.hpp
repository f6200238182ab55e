// Atomic fetch-and-add on plain memory, which may be a page other processes map too.
//
// Ranks on one node share a counter in an MPI shared-memory window; a lock-free 8-byte
// atomic on that page is what the hardware offers for it, with no call into any library.
#pragma once

#include <cstdint>

namespace supervm {

// Add `amount` to `*counter` atomically and return the value it had before.
inline std::int64_t fetch_add(std::int64_t* counter, std::int64_t amount) noexcept {
    static_assert(__atomic_always_lock_free(sizeof(std::int64_t), nullptr),
                  "an int64 atomic must be lock-free to work across processes");
    return __atomic_fetch_add(counter, amount, __ATOMIC_ACQ_REL);
}

}  // namespace supervm
