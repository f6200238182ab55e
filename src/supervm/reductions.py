"""Whole-array reductions and uniform histograms, each built on a mergeable partial state."""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

from supervm import _core
from supervm._checks import as_kernel_array, flat, resolve_backend, resolve_threads
from supervm.partials import HistogramState, MinMaxState, MomentState, SumState


def _prepare(a: Any, threads: int | None, backend: str) -> tuple[np.ndarray, int]:
    """Validate the common arguments; return the flat array and the thread count."""
    resolve_backend(backend)
    return flat(as_kernel_array(a)), resolve_threads(threads)


def sum_state(a: Any, *, threads: int | None = None, backend: str = "auto") -> SumState:
    """Return the mergeable sum state of every element of `a`."""
    arr, nthreads = _prepare(a, threads, backend)
    if arr.dtype.kind == "f":
        count, hi, lo = _core.sum_float_state(arr, nthreads)
        return SumState(arr.dtype, count, hi=hi, lo=lo)
    count, total = _core.sum_int_state(arr, nthreads)
    return SumState(arr.dtype, count, total)


def minmax_state(a: Any, *, threads: int | None = None, backend: str = "auto") -> MinMaxState:
    """Return the mergeable min/max state of every element of `a`."""
    arr, nthreads = _prepare(a, threads, backend)
    count, lo, hi, nan = _core.minmax_state(arr, nthreads)
    return MinMaxState(arr.dtype, count, lo, hi, nan)


def moment_state(a: Any, *, threads: int | None = None, backend: str = "auto") -> MomentState:
    """Return the mergeable (count, mean, M2) state of every element of `a`."""
    arr, nthreads = _prepare(a, threads, backend)
    count, mean, m2 = _core.moments_state(arr, nthreads)
    return MomentState(arr.dtype, count, mean, m2)


def sum(a: Any, *, threads: int | None = None, backend: str = "auto") -> Any:
    """Return the sum of every element (numpy's dtype; compensated for floats)."""
    return sum_state(a, threads=threads, backend=backend).result()


def mean(a: Any, *, threads: int | None = None, backend: str = "auto") -> Any:
    """Return the mean of every element (NaN with a warning when empty)."""
    return sum_state(a, threads=threads, backend=backend).mean()


def min(a: Any, *, threads: int | None = None, backend: str = "auto") -> Any:
    """Return the smallest element (NaN if any; ValueError when empty)."""
    return minmax_state(a, threads=threads, backend=backend).result_min()


def max(a: Any, *, threads: int | None = None, backend: str = "auto") -> Any:
    """Return the largest element (NaN if any; ValueError when empty)."""
    return minmax_state(a, threads=threads, backend=backend).result_max()


def _check_ddof(ddof: Any) -> float:
    if isinstance(ddof, bool) or not isinstance(ddof, numbers.Real):
        raise TypeError(f"ddof must be a real number, got {type(ddof).__name__}")
    return ddof


def var(a: Any, *, ddof: float = 0, threads: int | None = None, backend: str = "auto") -> Any:
    """Return the variance of every element with `ddof` delta degrees of freedom."""
    ddof = _check_ddof(ddof)
    return moment_state(a, threads=threads, backend=backend).var(ddof)


def std(a: Any, *, ddof: float = 0, threads: int | None = None, backend: str = "auto") -> Any:
    """Return the standard deviation of every element with `ddof`."""
    ddof = _check_ddof(ddof)
    return moment_state(a, threads=threads, backend=backend).std(ddof)


def _check_bins(bins: Any) -> int:
    if isinstance(bins, bool):
        raise TypeError("bins must be a positive int, got bool")
    try:
        count = operator.index(bins)
    except TypeError:
        raise TypeError(
            f"bins must be a positive int (uniform bins only), got {type(bins).__name__}"
        ) from None
    if count <= 0:
        raise ValueError(f"bins must be a positive int, got {count}")
    return count


def _checked_range(range: Any) -> tuple[Any, Any]:
    """Return a user's (min, max) range after checking it as numpy does."""
    try:
        first, last = range
    except (TypeError, ValueError):
        raise ValueError(f"range must be a (min, max) pair of numbers, got {range!r}") from None
    for edge in (first, last):
        if isinstance(edge, bool) or not isinstance(edge, (numbers.Real, np.number)):
            raise TypeError(f"range must hold real numbers, got {type(edge).__name__}")
    if first > last:
        raise ValueError(f"range must have min <= max, got ({first}, {last})")
    if not (np.isfinite(first) and np.isfinite(last)):
        raise ValueError(f"range must be finite, got ({first}, {last})")
    return first, last


def uniform_edges(
    extremes: MinMaxState | None,
    bins: int = 10,
    range: Any = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Return numpy.histogram's edges for data of `dtype` whose min/max state is `extremes`.

    `extremes` may be the merged state of many pieces (ranks); it is read only when
    `range` is None, and None or empty means no data.
    """
    nbins = _check_bins(bins)
    if range is not None:
        first, last = _checked_range(range)
    elif extremes is None or extremes.count == 0:
        first, last = 0, 1
    else:
        first, last = extremes.result_min(), extremes.result_max()
        if not (np.isfinite(first) and np.isfinite(last)):
            raise ValueError(f"autodetected range of [{first}, {last}] is not finite; pass range=")
    with np.errstate(over="ignore"):
        if not np.isfinite(np.float64(last) - np.float64(first)):
            raise ValueError(f"range ({first}, {last}) is too wide: its width overflows float64")
    if first == last:  # numpy widens an empty range by half a unit each way
        first = first - 0.5
        last = last + 0.5
    bin_type = np.result_type(first, last, np.empty(0, dtype=dtype))
    if np.issubdtype(bin_type, np.integer):
        bin_type = np.result_type(bin_type, float)
    # Near the float maximum linspace's intermediate step * index may overflow even though
    # every edge it returns is finite (it pins the last one); the check below decides.
    with np.errstate(over="ignore", invalid="ignore"):
        edges = np.linspace(first, last, nbins + 1, endpoint=True, dtype=bin_type)
    if not np.all(np.isfinite(edges)):
        raise ValueError(f"range ({first}, {last}) is too wide for {nbins} finite bins")
    if np.any(edges[:-1] >= edges[1:]):
        raise ValueError(f"too many bins for the data range: cannot make {nbins} finite bins")
    return edges


def histogram_edges(
    a: Any, bins: int = 10, range: Any = None, *, threads: int | None = None
) -> np.ndarray:
    """Return the uniform bin edges numpy.histogram would use for `a`, `bins`, `range`."""
    arr = flat(as_kernel_array(a))
    _check_bins(bins)
    extremes = minmax_state(arr, threads=threads) if range is None and arr.size else None
    return uniform_edges(extremes, bins, range, arr.dtype)


def histogram_state(
    a: Any,
    bins: int = 10,
    range: Any = None,
    *,
    edges: np.ndarray | None = None,
    threads: int | None = None,
    backend: str = "auto",
) -> HistogramState:
    """Return the mergeable histogram state of `a` (over `edges` when given, else numpy's)."""
    arr, nthreads = _prepare(a, threads, backend)
    if edges is None:
        edges = histogram_edges(arr, bins, range, threads=threads)
    counts = np.zeros(edges.shape[0] - 1, dtype=np.uint64)
    _core.histogram_add(arr, np.ascontiguousarray(edges, dtype=np.float64), counts, nthreads)
    return HistogramState(edges, counts)


def histogram(
    a: Any,
    bins: int = 10,
    range: Any = None,
    *,
    threads: int | None = None,
    backend: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Return `(counts, edges)` of `a` over `bins` uniform bins, as numpy.histogram."""
    return histogram_state(a, bins, range, threads=threads, backend=backend).result()
