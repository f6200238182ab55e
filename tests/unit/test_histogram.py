"""supervm.histogram against numpy.histogram: counts and edges identical."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import DTYPES, make_array, recipes, small_arrays

import supervm


def assert_histogram_like_numpy(a: np.ndarray, bins: int, range_: tuple | None) -> None:
    try:
        with warnings.catch_warnings(record=True) as numpy_warned:
            warnings.simplefilter("always")
            want_counts, want_edges = np.histogram(a, bins, range_)
    except ValueError:
        with pytest.raises(ValueError):
            supervm.histogram(a, bins, range_)
        return
    except IndexError:
        # numpy itself breaks when a float32 bin width overflows (a range near +-3.4e38).
        numpy_warned, want_edges = [IndexError], None
    if numpy_warned:
        # numpy overflowed computing the bin width and its own counts are unreliable; ours
        # refuse edges that overflow, or count every in-range element exactly once.
        try:
            counts, edges = supervm.histogram(a, bins, range_)
        except ValueError as error:
            assert "too wide" in str(error)
            return
        inside = (a >= edges[0]) & (a <= edges[-1])
        assert counts.sum() == int(inside.sum())
        return
    counts, edges = supervm.histogram(a, bins, range_)
    assert edges.dtype == want_edges.dtype
    np.testing.assert_array_equal(edges, want_edges)
    assert counts.dtype == want_counts.dtype
    np.testing.assert_array_equal(counts, want_counts)


@given(recipes(), st.integers(1, 300), st.sampled_from([None, "inner", "outer"]))
def test_histogram_matches_numpy(a: np.ndarray, bins: int, range_kind: str | None) -> None:
    range_ = None
    if range_kind is not None and a.size:
        with np.errstate(all="ignore"):
            finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        assume(finite.size > 0)
        lo, hi = float(np.min(finite)), float(np.max(finite))
        span = hi - lo
        assume(np.isfinite(span))
        range_ = (lo + span / 4, hi - span / 4) if range_kind == "inner" else (lo - 1, hi + 1)
    assert_histogram_like_numpy(a, bins, range_)


@given(small_arrays(), st.integers(1, 20))
def test_histogram_small_arrays(a: np.ndarray, bins: int) -> None:
    assert_histogram_like_numpy(a, bins, None)


def test_values_on_edges_go_where_numpy_puts_them() -> None:
    a = np.linspace(0.0, 1.0, 101)
    assert_histogram_like_numpy(a, 10, None)
    assert_histogram_like_numpy(a, 7, (0.1, 0.9))
    assert supervm.histogram(a, 10)[0][-1] == np.histogram(a, 10)[0][-1]


@pytest.mark.parametrize("bins", [1, 3, 7, 10, 255, 256, 1000])
@pytest.mark.parametrize("range_", [(0.0, 1.0), (-3.5, 1e6), (1e6, 1e6 + 3.0), (-1e-3, -1e-9),
                                    (-4.604265724722594, -0.5059543046270605),
                                    (-9.669447289429417, 71.65776336035863)])
def test_values_on_and_beside_every_edge_go_where_numpy_puts_them(
        bins: int, range_: tuple[float, float]) -> None:
    # The vector path estimates with a multiply, numpy with a divide: they may truncate to
    # different bins right at an edge, where the exact edge comparison must decide (in the
    # last two ranges numpy's own corrections fire for ~100 of these values).
    edges = np.histogram_bin_edges(np.array(range_), bins, range=range_)
    rng = np.random.default_rng(bins)
    a = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf),
                        rng.uniform(*range_, 5000)])
    rng.shuffle(a)
    assert_histogram_like_numpy(a, bins, None)
    assert_histogram_like_numpy(a, bins, range_)


@pytest.mark.parametrize("low, high", [(0.0, 1e-308), (0.0, 5e-324 * 300), (-8e307, 8e307)])
def test_ranges_at_the_ends_of_float64_match_numpy(low: float, high: float) -> None:
    # bins / width overflows or loses its relative rounding here: numpy's own arithmetic.
    a = np.linspace(low, high, 4099)
    for bins in (1, 2, 256):
        assert_histogram_like_numpy(a, bins, None)


def test_equal_values_get_numpy_half_unit_range() -> None:
    counts, edges = supervm.histogram(np.full(5, 3, dtype=np.int32), 4)
    assert edges[0] == 2.5 and edges[-1] == 3.5 and counts.sum() == 5


def test_nan_is_rejected_without_range_and_dropped_with_one() -> None:
    a = np.array([0.5, np.nan, 1.5])
    with pytest.raises(ValueError, match="not finite"):
        supervm.histogram(a, 2)
    counts, _ = supervm.histogram(a, 2, range=(0, 2))
    assert counts.tolist() == [1, 1]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_state_merges_to_the_whole(dtype: np.dtype) -> None:
    a = make_array(dtype, 100_000, "uniform", seed=2)
    edges = supervm.histogram_edges(a, 64)
    left = supervm.histogram_state(a[:40_000], edges=edges)
    right = supervm.histogram_state(a[40_000:], edges=edges)
    np.testing.assert_array_equal(left.merge(right).result()[0], np.histogram(a, 64)[0])


@pytest.mark.large
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_large_histogram(dtype: np.dtype) -> None:
    a = make_array(dtype, 10_000_000, "uniform", seed=17)
    assert_histogram_like_numpy(a, 256, None)
