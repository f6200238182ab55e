"""Sort and stable argsort of 1-D arrays through the C++ radix kernels."""

from __future__ import annotations

from typing import Any

import numpy as np

from supervm import _core
from supervm._checks import as_1d, as_kernel_array, resolve_backend, resolve_threads


def sort(a: Any, *, threads: int | None = None, backend: str = "auto") -> np.ndarray:
    """Return a sorted copy of the 1-D array `a` (NaNs last, as numpy.sort)."""
    resolve_backend(backend)
    nthreads = resolve_threads(threads)
    arr = as_1d(as_kernel_array(a))
    out = np.empty_like(arr)
    _core.sort_copy_into(arr, out, nthreads)
    return out


def release_scratch() -> int:
    """Free the scratch buffer large sorts keep for the next call; return the bytes freed.

    A 64-bit argsort of n items uses 16n bytes of scratch; the last one (up to 1/16 of
    physical memory) is kept, because a fresh buffer costs the kernel's zeroing of every page.
    """
    held = int(_core.scratch_held())
    _core.release_scratch()
    return held


def argsort(a: Any, *, threads: int | None = None, backend: str = "auto") -> np.ndarray:
    """Return int64 indices of a stable sort of `a` (numpy.argsort(a, kind="stable"))."""
    resolve_backend(backend)
    nthreads = resolve_threads(threads)
    arr = as_1d(as_kernel_array(a))
    out = np.empty(arr.shape[0], dtype=np.int64)
    _core.argsort_into(arr, out, nthreads)
    return out
