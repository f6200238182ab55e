"""Mergeable partial states of the reductions.

A state summarises one piece of data (one thread's, one rank's); `merge` combines two
states exactly as if the kernel had seen both pieces, and `result` gives numpy's answer.
The distributed layer gathers states from every rank and merges them in rank order.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from supervm import _core


def _result_dtype_of_sum(dtype: np.dtype) -> np.dtype:
    """Return the dtype numpy's sum gives for `dtype` (ints widen to 64 bits)."""
    if dtype.kind == "i":
        return np.dtype(np.int64)
    if dtype.kind == "u":
        return np.dtype(np.uint64)
    return dtype


def _wrap_int(total: int, dtype: np.dtype) -> Any:
    """Return an exact integer total wrapped to `dtype` as numpy's overflowing sum does."""
    bits = dtype.itemsize * 8
    wrapped = total & ((1 << bits) - 1)
    if dtype.kind == "i" and wrapped >= 1 << (bits - 1):
        wrapped -= 1 << bits
    return dtype.type(wrapped)


def _check_same_dtype(a: np.dtype, b: np.dtype) -> None:
    if a != b:
        raise ValueError(f"cannot merge partial states of different dtypes: {a} and {b}")


@dataclass(frozen=True)
class SumState:
    """Count and sum: exact Python int for integers, hi + lo compensated pair for floats."""

    dtype: np.dtype
    count: int
    total: int = 0
    hi: float = 0.0
    lo: float = 0.0

    def merge(self, other: SumState) -> SumState:
        """Return the state of both pieces of data together."""
        _check_same_dtype(self.dtype, other.dtype)
        if self.dtype.kind in "iu":
            return SumState(self.dtype, self.count + other.count, self.total + other.total)
        count, hi, lo = _core.merge_float_sum(
            (self.count, self.hi, self.lo), (other.count, other.hi, other.lo)
        )
        return SumState(self.dtype, count, hi=hi, lo=lo)

    def value(self) -> float | int:
        """Return the sum as a Python number (exact int, or the rounded float)."""
        if self.dtype.kind in "iu":
            return self.total
        return self.hi + self.lo if math.isfinite(self.hi) else self.hi

    def result(self) -> Any:
        """Return numpy's `sum` of the data: the same dtype, wrapped integers."""
        out = _result_dtype_of_sum(self.dtype)
        if self.dtype.kind in "iu":
            return _wrap_int(self.total, out)
        with np.errstate(over="ignore"):  # a float32 total past its range is inf, silently
            return out.type(self.value())

    def mean(self) -> Any:
        """Return numpy's `mean` of the data (float64 for integers, NaN when empty)."""
        out = self.dtype if self.dtype.kind == "f" else np.dtype(np.float64)
        if self.count == 0:
            warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=3)
            return out.type(np.nan)
        if self.dtype.kind in "iu":
            return out.type(self.total / self.count)  # int / int is correctly rounded
        with np.errstate(over="ignore"):
            return out.type(self.value() / self.count)


@dataclass(frozen=True)
class MinMaxState:
    """Count, smallest and largest element, and whether a NaN was seen."""

    dtype: np.dtype
    count: int
    min: Any = None
    max: Any = None
    nan: bool = False

    def merge(self, other: MinMaxState) -> MinMaxState:
        """Return the state of both pieces of data together."""
        _check_same_dtype(self.dtype, other.dtype)
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        return MinMaxState(
            self.dtype,
            self.count + other.count,
            min(self.min, other.min),
            max(self.max, other.max),
            self.nan or other.nan,
        )

    def _pick(self, value: Any, operation: str) -> Any:
        if self.count == 0:
            raise ValueError(
                f"zero-size array to reduction operation {operation} which has no identity"
            )
        return self.dtype.type(np.nan) if self.nan else self.dtype.type(value)

    def result_min(self) -> Any:
        """Return numpy's `min` (NaN if any NaN; ValueError when empty)."""
        return self._pick(self.min, "minimum")

    def result_max(self) -> Any:
        """Return numpy's `max` (NaN if any NaN; ValueError when empty)."""
        return self._pick(self.max, "maximum")


@dataclass(frozen=True)
class MomentState:
    """Count, mean and M2 (sum of squared deviations), merged after Chan et al."""

    dtype: np.dtype
    count: int
    mean: float = 0.0
    m2: float = 0.0

    def merge(self, other: MomentState) -> MomentState:
        """Return the state of both pieces of data together."""
        _check_same_dtype(self.dtype, other.dtype)
        count, mean, m2 = _core.merge_moments(
            (self.count, self.mean, self.m2), (other.count, other.mean, other.m2)
        )
        return MomentState(self.dtype, count, mean, m2)

    def var(self, ddof: float = 0) -> Any:
        """Return numpy's `var` with `ddof` (NaN or inf with a warning when count <= ddof)."""
        out = self.dtype if self.dtype.kind == "f" else np.dtype(np.float64)
        dof = self.count - ddof
        if dof <= 0:
            warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
            m2 = self.m2 if self.count > 0 else 0.0
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return out.type(np.float64(m2) / np.float64(max(dof, 0)))
        with np.errstate(over="ignore"):  # a float32 variance past its range is inf, silently
            return out.type(self.m2 / dof)

    def std(self, ddof: float = 0) -> Any:
        """Return numpy's `std` with `ddof`."""
        v = self.var(ddof)
        dof = self.count - ddof
        if dof <= 0:
            return type(v)(np.sqrt(v))
        # The root of the double variance, rounded once: a float32 std is finite even where
        # its variance is past the float32 range.
        with np.errstate(over="ignore"):
            return type(v)(np.sqrt(np.float64(self.m2) / np.float64(dof)))


@dataclass(frozen=True)
class HistogramState:
    """Counts over fixed uniform bin edges; states merge only over identical edges."""

    edges: np.ndarray
    counts: np.ndarray

    def merge(self, other: HistogramState) -> HistogramState:
        """Return the state of both pieces of data together."""
        if self.edges.shape != other.edges.shape or not np.array_equal(self.edges, other.edges):
            raise ValueError("cannot merge histograms over different bin edges")
        return HistogramState(self.edges, self.counts + other.counts)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Return `(counts, edges)` as numpy.histogram does (counts as int64)."""
        return self.counts.astype(np.int64), self.edges
