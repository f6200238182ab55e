# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# distutils: language = c++
"""Bindings of the C++ kernels: convert buffers and types, release the GIL, nothing else."""

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp cimport bool as cbool


cdef extern from "sort/sort.hpp" namespace "supervm::sort" nogil:
    void sort_copy[T](const T* inp, T* out, size_t n, int threads) except +
    void argsort_stable[T](const T* inp, int64_t* out, size_t n, int threads) except +

cdef extern from "reduce/reduce.hpp" namespace "supervm::reduce" nogil:
    cdef struct FloatSum:
        uint64_t count
        double hi
        double lo
    cdef struct IntSum:
        uint64_t count
        int64_t hi
        uint64_t lo
    cdef cppclass MinMax[T]:
        uint64_t count
        T min
        T max
        cbool nan
    cdef struct Moments:
        uint64_t count
        double mean
        double m2
    FloatSum sum_float[T](const T* a, size_t n, int threads) except +
    IntSum sum_int[T](const T* a, size_t n, int threads) except +
    MinMax[T] minmax[T](const T* a, size_t n, int threads) except +
    Moments moments[T](const T* a, size_t n, int threads) except +
    void histogram_uniform[T](const T* a, size_t n, const double* edges, size_t bins,
                              uint64_t* counts, int threads) except +

cdef extern from "common/parallel.hpp" namespace "supervm" nogil:
    int hardware_threads()

ctypedef fused key_t:
    int32_t
    int64_t
    uint32_t
    uint64_t
    float
    double

ctypedef fused float_t:
    float
    double

ctypedef fused int_t:
    int32_t
    int64_t
    uint32_t
    uint64_t


def cpu_count():
    """Return the number of hardware threads the kernels use by default."""
    return hardware_threads()


cdef inline const key_t* _ptr(const key_t[::1] a) noexcept nogil:
    # A zero-length memoryview has no element 0; the kernels never read it when n == 0.
    return &a[0] if a.shape[0] > 0 else NULL


def sort_copy_into(const key_t[::1] a, key_t[::1] out, int threads):
    """Sort `a` into `out` (same length, no overlap)."""
    cdef size_t n = a.shape[0]
    with nogil:
        if n > 0:
            sort_copy(&a[0], &out[0], n, threads)


def argsort_into(const key_t[::1] a, int64_t[::1] out, int threads):
    """Write the stable argsort of `a` into `out`."""
    cdef size_t n = a.shape[0]
    with nogil:
        if n > 0:
            argsort_stable(&a[0], &out[0], n, threads)


def sum_float_state(const float_t[::1] a, int threads):
    """Return (count, hi, lo) of the compensated sum of `a`."""
    cdef FloatSum s
    with nogil:
        s = sum_float(_ptr(a), a.shape[0], threads)
    return s.count, s.hi, s.lo


def sum_int_state(const int_t[::1] a, int threads):
    """Return (count, exact total as a Python int) of `a`."""
    cdef IntSum s
    with nogil:
        s = sum_int(_ptr(a), a.shape[0], threads)
    return s.count, (int(s.hi) << 64) + int(s.lo)


def minmax_state(const key_t[::1] a, int threads):
    """Return (count, min, max, saw_nan) of `a`; min and max are None when empty."""
    cdef MinMax[key_t] m
    with nogil:
        m = minmax(_ptr(a), a.shape[0], threads)
    if m.count == 0:
        return 0, None, None, False
    return m.count, m.min, m.max, bool(m.nan)


def moments_state(const key_t[::1] a, int threads):
    """Return (count, mean, m2) of `a`, computed in double."""
    cdef Moments m
    with nogil:
        m = moments(_ptr(a), a.shape[0], threads)
    return m.count, m.mean, m.m2


def histogram_add(const key_t[::1] a, const double[::1] edges, uint64_t[::1] counts,
                  int threads):
    """Add the uniform-bin histogram of `a` over `edges` into `counts`."""
    cdef size_t bins = counts.shape[0]
    if edges.shape[0] != counts.shape[0] + 1:
        raise ValueError("edges must have one more element than counts")
    with nogil:
        histogram_uniform(_ptr(a), a.shape[0], &edges[0], bins, &counts[0], threads)


cdef extern from "reduce/reduce.hpp" namespace "supervm::reduce" nogil:
    FloatSum merge_float "supervm::reduce::merge"(const FloatSum& a, const FloatSum& b)
    Moments merge_moments_c "supervm::reduce::merge"(const Moments& a, const Moments& b)


def merge_float_sum(tuple a, tuple b):
    """Merge two (count, hi, lo) compensated sums exactly."""
    cdef FloatSum x, y, z
    x.count, x.hi, x.lo = a
    y.count, y.hi, y.lo = b
    z = merge_float(x, y)
    return z.count, z.hi, z.lo


def merge_moments(tuple a, tuple b):
    """Merge two (count, mean, m2) moment states (Chan et al.)."""
    cdef Moments x, y, z
    x.count, x.mean, x.m2 = a
    y.count, y.mean, y.m2 = b
    z = merge_moments_c(x, y)
    return z.count, z.mean, z.m2
