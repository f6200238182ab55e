"""Partial states merge exactly: any split of the data gives the whole-array answer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import recipes

import supervm


def split(a: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    points = sorted({min(c, a.size) for c in cuts})
    return np.split(a, points)


@given(recipes(max_size=20_000), st.lists(st.integers(0, 20_000), max_size=5))
def test_merged_states_equal_the_whole(a: np.ndarray, cuts: list[int]) -> None:
    pieces = split(a, cuts)
    sums = [supervm.sum_state(p) for p in pieces]
    mins = [supervm.minmax_state(p) for p in pieces]
    moments = [supervm.moment_state(p) for p in pieces]
    total, extremes, moment = sums[0], mins[0], moments[0]
    for s, m, v in zip(sums[1:], mins[1:], moments[1:], strict=True):
        total, extremes, moment = total.merge(s), extremes.merge(m), moment.merge(v)
    whole = supervm.sum_state(a)
    assert total.count == whole.count == a.size
    if a.dtype.kind in "iu":
        assert total.total == whole.total == sum(int(x) for x in a.tolist())
    else:
        np.testing.assert_allclose(total.value(), whole.value(), rtol=1e-12, atol=1e-300)
    if a.size:
        np.testing.assert_array_equal(extremes.result_min(), np.min(a))
        np.testing.assert_array_equal(extremes.result_max(), np.max(a))
        with np.errstate(all="ignore"):
            wide = a.astype(np.float64)
            # (np.float64 squares to inf where a Python float raises OverflowError.)
            want, scale = np.var(wide), float(np.max(np.abs(wide)) ** 2)
        if np.isfinite(want) and np.isfinite(scale):
            # numpy's own error is relative to the square of the largest value, not the variance
            np.testing.assert_allclose(
                moment.m2 / moment.count, want, rtol=1e-9, atol=scale * 1e-12
            )


def test_float_sum_merge_is_error_free() -> None:
    big = supervm.sum_state(np.array([1e16]))
    small = supervm.sum_state(np.array([1.0]))
    merged = big.merge(small).merge(supervm.sum_state(np.array([-1e16])))
    assert merged.value() == 1.0


def test_states_of_different_dtypes_do_not_merge() -> None:
    with pytest.raises(ValueError, match="different dtypes"):
        supervm.sum_state(np.zeros(2)).merge(supervm.sum_state(np.zeros(2, dtype=np.float32)))


def test_histograms_over_different_edges_do_not_merge() -> None:
    a = supervm.histogram_state(np.arange(10.0), 5)
    b = supervm.histogram_state(np.arange(10.0), 4)
    with pytest.raises(ValueError, match="different bin edges"):
        a.merge(b)
