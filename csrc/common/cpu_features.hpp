// Runtime CPU feature checks for kernels that are compiled twice (baseline x86-64 and AVX2).
//
// The build targets baseline x86-64, so AVX2 code lives in separate translation units
// compiled under `#pragma GCC target` and is only called after this check says so.
#pragma once

#include <cstdlib>

namespace supervm {

// True when the CPU runs AVX2 and FMA code. Setting SUPERVM_NO_AVX2=1 forces the baseline
// kernels, so tests can cover both paths on one machine. Checked once per process.
inline bool cpu_has_avx2_fma() {
    static const bool has = [] {
        const char* off = std::getenv("SUPERVM_NO_AVX2");
        if (off != nullptr && off[0] != '\0' && off[0] != '0') return false;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        return false;
#endif
    }();
    return has;
}

}  // namespace supervm
