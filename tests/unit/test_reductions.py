"""Reductions against numpy: sum, min, max, mean, var, std over every dtype."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import DTYPES, make_array, recipes, small_arrays

import supervm


def float_tolerance(dtype: np.dtype, n: int) -> float:
    """Relative tolerance for results that numpy computes with its own rounding."""
    eps = np.finfo(dtype).eps if dtype.kind == "f" else np.finfo(np.float64).eps
    return float(eps) * max(8.0, math.log2(max(n, 2)) * 4)


def assert_close_like_numpy(
    got: object, want: object, dtype: np.dtype, n: int, scale: float
) -> None:
    assert np.asarray(got).dtype == np.asarray(want).dtype
    if np.isnan(want):
        assert np.isnan(got)
    elif np.isinf(want):
        assert got == want
    else:
        assert abs(float(got) - float(want)) <= float_tolerance(dtype, n) * max(scale, 1e-300)


def sum_of_infinities(a: np.ndarray) -> np.floating:
    """Return the true sum of NaN-free data holding infinities: theirs if of one sign, else NaN."""
    infinities = a[np.isinf(a)]
    return infinities[0] if np.all(infinities == infinities[0]) else a.dtype.type(np.nan)


@given(recipes(), st.sampled_from([None, 1, 2]))
def test_sum_matches_numpy(a: np.ndarray, threads: int | None) -> None:
    got = supervm.sum(a, threads=threads)
    with np.errstate(all="ignore"):
        # A float32 sum accumulates in double here: compare with numpy's float64 sum, which
        # also does not overflow at the float32 limit halfway through.
        want = np.sum(a) if a.dtype != np.float32 else np.float32(np.sum(a.astype(np.float64)))
    if a.dtype.kind == "f" and not np.isfinite(want) and not np.isnan(a).any():
        # numpy's pairwise partial sums overflowed: the true sum may well be in range, and
        # infinities of one sign win over the finite terms (numpy may say NaN: +inf + -inf).
        if np.isinf(a).any():
            want = sum_of_infinities(a)
        else:
            try:
                exact = math.fsum(a.astype(np.float64).tolist())
            except OverflowError:  # it is not in range: any answer past the range will do
                return
            with np.errstate(over="ignore"):
                want = a.dtype.type(exact)
    if a.dtype.kind in "iu":
        assert got == want and got.dtype == want.dtype  # exact, wrapped as numpy wraps
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            scale = float(np.sum(np.abs(a.astype(np.float64))))
            assert_close_like_numpy(got, want, a.dtype, a.size, scale)


@given(small_arrays())
def test_min_max_match_numpy(a: np.ndarray) -> None:
    if a.size == 0:
        with pytest.raises(ValueError, match="zero-size array"):
            supervm.min(a)
        with pytest.raises(ValueError, match="zero-size array"):
            supervm.max(a)
        return
    for ours, theirs in ((supervm.min, np.min), (supervm.max, np.max)):
        got, want = ours(a), theirs(a)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@given(recipes(), st.sampled_from([None, 1]))
def test_min_max_match_numpy_on_larger_arrays(a: np.ndarray, threads: int | None) -> None:
    if a.size == 0:
        return
    np.testing.assert_array_equal(supervm.min(a, threads=threads), np.min(a))
    np.testing.assert_array_equal(supervm.max(a, threads=threads), np.max(a))


@given(recipes(), st.sampled_from([0, 1, 2.5]))
def test_mean_var_std_match_numpy(a: np.ndarray, ddof: float) -> None:
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        got = (supervm.mean(a), supervm.var(a, ddof=ddof), supervm.std(a, ddof=ddof))
    with warnings.catch_warnings(record=True) as numpy_warned, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        want = (np.mean(a), np.var(a, ddof=ddof), np.std(a, ddof=ddof))
    assert bool(ours_warned) == bool(numpy_warned)
    if a.dtype == np.float32:
        # Ours accumulates float32 data in double: compare with numpy on float64 data cast
        # back, which also does not overflow at the float32 limit halfway through.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            wide = a.astype(np.float64)
            want = tuple(np.float32(w) for w in (np.mean(wide), np.var(wide, ddof=ddof),
                                                 np.std(wide, ddof=ddof)))
    with np.errstate(all="ignore"):
        wide = a.astype(np.float64)
        spread = float(np.max(np.abs(wide))) if a.size else 0.0
    if not math.isfinite(spread):
        if not np.isnan(a).any() and np.isinf(a).any():
            # As for the sum: the infinities decide the mean, whatever numpy's overflowed
            # finite partial sums made of it.
            want = (sum_of_infinities(a), *want[1:])
        for g, w in zip(got, want, strict=True):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            assert np.isnan(g) == np.isnan(w)
        return
    assert_close_like_numpy(got[0], want[0], a.dtype, a.size, spread)
    # numpy's float32 variance accumulates in float32: allow its error, not ours.
    # (spread**2 overflows a Python float past 1e154: no bound is meaningful there anyway.)
    assert_close_like_numpy(got[1], want[1], a.dtype, a.size,
                            spread * spread * 4 if spread < 1e150 else math.inf)
    assert_close_like_numpy(got[2], want[2], a.dtype, a.size, spread * 4)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_every_position_reaches_the_streamed_kernels(dtype: np.dtype) -> None:
    """An element anywhere (in any of the side-by-side streams or the tail) counts."""
    for n in (7, 16, 33, 100, 257):
        for pos in range(n):
            a = np.ones(n, dtype)
            a[pos] = 3
            assert supervm.max(a, threads=1) == 3
            assert supervm.sum(a, threads=1) == n + 2
            a[pos] = 0
            assert supervm.min(a, threads=1) == 0
            if dtype.kind == "f":
                a[pos] = np.nan
                assert np.isnan(supervm.min(a, threads=1))
                assert np.isnan(supervm.max(a, threads=1))


def test_the_data_decide_a_sum_whose_partial_sums_overflow() -> None:
    """Lanes overflowing against an infinity, or finite partial sums past the range."""
    with np.errstate(all="ignore"):
        one_infinity = np.array([np.inf] + [-1e308] * 40)  # the -1e308 lanes reach -inf
        assert supervm.sum(one_infinity) == np.inf
        assert supervm.mean(one_infinity) == np.inf
        cancelling = np.array([1e308] * 20 + [-1e308] * 20 + [5.0])  # a lane reaches inf
        assert supervm.sum(cancelling) == 5.0
        assert supervm.mean(cancelling) == 5.0 / 41
        assert np.isnan(supervm.sum(np.array([np.inf, -np.inf, 1.0])))
        assert np.isnan(supervm.sum(np.array([1e308] * 20 + [np.nan])))
        large = np.full(300_000, 1e308)
        large[::2] = -1e308  # even lanes overflow to -inf, odd ones to +inf, on each thread
        assert supervm.sum(large, threads=2) == 0.0
        large[7] = -np.inf
        assert supervm.sum(large, threads=2) == -np.inf
        float32 = np.full(300_000, 3e38, dtype=np.float32)  # summed in double: no overflow
        float32[7] = -np.inf
        assert supervm.sum(float32, threads=2) == -np.inf


def test_threaded_results_are_bit_identical_call_after_call() -> None:
    """Chunks merge in their own order, whichever thread took them, however late it started."""
    a = np.random.default_rng(9).standard_normal(300_000) * 1e6
    first = (supervm.sum(a, threads=2), supervm.var(a, threads=2), supervm.min(a, threads=2))
    counts = supervm.histogram(a, 64, threads=2)[0]
    for _ in range(300):
        assert (supervm.sum(a, threads=2), supervm.var(a, threads=2),
                supervm.min(a, threads=2)) == first
    assert (supervm.histogram(a, 64, threads=2)[0] == counts).all()


def test_sum_is_at_least_as_accurate_as_numpy_against_fsum() -> None:
    rng = np.random.default_rng(5)
    # Ill-conditioned: huge cancelling terms plus small ones.
    a = np.concatenate([rng.standard_normal(200_000) * 1e12, -rng.standard_normal(200_000) * 1e12,
                        rng.standard_normal(400_000)])
    a = np.concatenate([a, -a[:400_000]])
    rng.shuffle(a)
    exact = math.fsum(a.tolist())
    ours = abs(float(supervm.sum(a)) - exact)
    theirs = abs(float(np.sum(a)) - exact)
    assert ours <= theirs
    assert ours <= abs(exact) * 1e-15 + 1e-3


def test_float32_sum_accumulates_in_double() -> None:
    a = np.full(10_000_000, 0.1, dtype=np.float32)
    exact = math.fsum(np.float64(np.float32(0.1)) for _ in range(1)) * a.size
    assert abs(float(supervm.sum(a)) - exact) <= abs(float(np.sum(a)) - exact)
    assert supervm.sum(a).dtype == np.float32


def test_integer_sum_wraps_exactly_like_numpy() -> None:
    a = np.full(1000, np.iinfo(np.int64).max, dtype=np.int64)
    assert supervm.sum(a) == np.sum(a)
    u = np.full(1000, np.iinfo(np.uint64).max, dtype=np.uint64)
    assert supervm.sum(u) == np.sum(u)


def test_integer_mean_is_correctly_rounded() -> None:
    a = np.array([2**62, 2**62, 1], dtype=np.int64)
    assert supervm.mean(a) == (2**63 + 1) / 3


def test_nan_propagates_through_every_reduction() -> None:
    a = np.array([1.0, np.nan, 3.0])
    for fn in (supervm.sum, supervm.min, supervm.max, supervm.mean, supervm.var, supervm.std):
        assert np.isnan(fn(a)), fn.__name__


def test_empty_mean_and_var_warn_and_return_nan() -> None:
    empty = np.array([], dtype=np.float64)
    with pytest.warns(RuntimeWarning, match="empty"):
        assert np.isnan(supervm.mean(empty))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        assert np.isnan(supervm.var(empty))
    assert supervm.sum(empty) == 0.0


def test_reductions_take_every_element_of_nd_input() -> None:
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    assert supervm.sum(a) == a.sum()
    assert supervm.max(a.T) == 23.0
    assert supervm.var(a[:, ::2]) == pytest.approx(np.var(a[:, ::2]))


@pytest.mark.large
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_large_reductions(dtype: np.dtype) -> None:
    a = make_array(dtype, 10_000_000, "uniform", seed=13)
    if dtype.kind in "iu":
        assert supervm.sum(a) == np.sum(a)
    else:
        scale = float(np.sum(np.abs(a.astype(np.float64))))
        assert_close_like_numpy(supervm.sum(a), np.sum(a), dtype, a.size, scale)
    assert supervm.min(a) == np.min(a) and supervm.max(a) == np.max(a)
    wide = a.astype(np.float64)
    rel = 1e-6 if dtype == np.float32 else 1e-9  # a float32 result is rounded to float32
    assert float(supervm.mean(a)) == pytest.approx(float(np.mean(wide)), rel=rel, abs=1e-9)
    assert float(supervm.var(a)) == pytest.approx(float(np.var(wide)), rel=rel)


def test_a_float32_variance_past_the_float32_range_is_inf_without_a_warning() -> None:
    big = np.finfo(np.float32).max
    a = np.array([-big, 1.0, -big, 2.0, 3.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert supervm.var(a) == np.inf and supervm.var(a).dtype == np.float32
        # Its root is in range: the std is the double one, rounded once.
        assert supervm.std(a) == np.float32(np.std(a.astype(np.float64)))
