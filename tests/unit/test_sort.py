"""supervm.sort and supervm.argsort against numpy, every dtype, random and adversarial."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import DTYPES, PATTERNS, make_array, recipes, small_arrays

import supervm


def assert_sorted_like_numpy(a: np.ndarray, threads: int | None = None) -> None:
    got = supervm.sort(a, threads=threads)
    want = np.sort(a)
    assert got.dtype == a.dtype and got.shape == a.shape
    # equal_nan: NaN payloads may differ; -0.0 == 0.0 as numpy compares them.
    np.testing.assert_array_equal(got, want)


def assert_argsorted_like_numpy(a: np.ndarray, threads: int | None = None) -> None:
    got = supervm.argsort(a, threads=threads)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.argsort(a, kind="stable"))


@given(recipes(), st.sampled_from([None, 1, 2, 3]))
def test_sort_matches_numpy(a: np.ndarray, threads: int | None) -> None:
    assert_sorted_like_numpy(a, threads)


@given(small_arrays())
def test_sort_small_arrays_with_specials(a: np.ndarray) -> None:
    assert_sorted_like_numpy(a)


@given(recipes(), st.sampled_from([None, 1, 2, 3]))
def test_argsort_is_numpys_stable_argsort(a: np.ndarray, threads: int | None) -> None:
    assert_argsorted_like_numpy(a, threads)


@given(small_arrays())
def test_argsort_small_arrays_with_specials(a: np.ndarray) -> None:
    assert_argsorted_like_numpy(a)


def test_sort_does_not_modify_input_and_returns_a_copy() -> None:
    a = np.array([3, 1, 2], dtype=np.int64)
    out = supervm.sort(a)
    assert a.tolist() == [3, 1, 2]
    assert out.tolist() == [1, 2, 3]
    assert not np.shares_memory(a, out)


def test_sort_puts_every_nan_last_and_orders_signed_zeros_as_equal() -> None:
    a = np.array([np.nan, -0.0, -np.nan, 0.0, -np.inf, np.inf, 1.0], dtype=np.float64)
    out = supervm.sort(a)
    assert out[:2].tolist() == [-np.inf, 0.0] and out[4] == np.inf
    assert np.isnan(out[5:]).all()
    order = supervm.argsort(a)
    assert order.tolist() == [4, 1, 3, 6, 5, 0, 2]


def test_sort_accepts_non_contiguous_and_read_only_input() -> None:
    a = np.arange(20, dtype=np.float32)[::-2]
    assert supervm.sort(a).tolist() == sorted(a.tolist())
    b = np.arange(10, dtype=np.int32)[::-1].copy()
    b.flags.writeable = False
    assert supervm.sort(b).tolist() == list(range(10))


def test_sort_accepts_non_native_byte_order() -> None:
    a = np.array([5, -1, 3], dtype=">i8")
    assert supervm.sort(a).tolist() == [-1, 3, 5]
    assert supervm.argsort(a).tolist() == [1, 2, 0]


def test_single_thread_equals_all_threads_on_skewed_data() -> None:
    a = make_array(np.dtype(np.float64), 300_000, "zipf", seed=7)
    np.testing.assert_array_equal(supervm.sort(a, threads=1), supervm.sort(a))
    np.testing.assert_array_equal(supervm.argsort(a, threads=1), supervm.argsort(a))


@pytest.mark.large
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("pattern", ["uniform", "few-distinct", "zipf"])
def test_large_sort_and_argsort(dtype: np.dtype, pattern: str) -> None:
    a = make_array(dtype, 10_000_000, pattern, seed=11)
    np.testing.assert_array_equal(supervm.sort(a), np.sort(a))
    if pattern == "uniform":
        np.testing.assert_array_equal(supervm.argsort(a), np.argsort(a, kind="stable"))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_pattern_at_a_size_past_the_cache(pattern: str) -> None:
    for dtype in DTYPES:
        a = make_array(dtype, 1_000_003, pattern, seed=3)
        assert_sorted_like_numpy(a)
        assert_argsorted_like_numpy(a)


@pytest.mark.large
@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.float64)], ids=str)
def test_a_first_digit_guessed_from_a_sample_is_checked_against_every_item(
    dtype: np.dtype,
) -> None:
    # Large skewed inputs choose their first digit from a sample of chunks; one negative
    # value between the first two chunks makes a top bit vary that the sample never saw.
    a = np.abs(np.random.default_rng(5).standard_normal(5_000_000)).astype(dtype)
    np.testing.assert_array_equal(supervm.sort(a), np.sort(a))
    a[10_000] = -a[10_000]
    a[20_000] = np.nan
    for threads in (1, None):
        np.testing.assert_array_equal(supervm.sort(a, threads=threads), np.sort(a))
    np.testing.assert_array_equal(supervm.argsort(a), np.argsort(a, kind="stable"))


@pytest.mark.large
@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.float64)], ids=str)
@pytest.mark.parametrize("shape", ["normal", "unit-uniform", "many-octaves"])
def test_one_thread_sorts_skewed_floats_through_wide_or_equal_count_buckets(
    dtype: np.dtype, shape: str,
) -> None:
    # One thread (a rank) judges skew by the in-cache bucket size, not by the threads'
    # share: these inputs take the wide digit or the equal-count table there, at sizes on
    # both sides of the sampled first digit.
    rng = np.random.default_rng(17)
    for n in (1_000_000, 5_000_000):
        if shape == "normal":
            a = rng.standard_normal(n)
        elif shape == "unit-uniform":
            a = rng.random(n)
        else:
            a = np.exp(rng.uniform(-25, 25, n))
        a = a.astype(dtype)
        np.testing.assert_array_equal(supervm.sort(a, threads=1), np.sort(a))
        np.testing.assert_array_equal(supervm.argsort(a, threads=1),
                                      np.argsort(a, kind="stable"))


def test_a_bucket_too_big_for_direct_passes_is_partitioned_again() -> None:
    # One tenth of the keys in a narrow cluster: not enough skew for the wide digit, so the
    # plain first digit leaves one bucket of ~340K keys, past what LSD passes take directly
    # (2 MiB); it is partitioned once more, on one thread and on all.
    rng = np.random.default_rng(23)
    info = np.iinfo(np.int64)
    a = rng.integers(info.min, info.max, 3_000_000, dtype=np.int64)
    a[::10] = rng.integers(0, 1 << 40, a[::10].size)
    for threads in (1, None):
        np.testing.assert_array_equal(supervm.sort(a, threads=threads), np.sort(a))
        np.testing.assert_array_equal(supervm.argsort(a, threads=threads),
                                      np.argsort(a, kind="stable"))


def test_argsort_keeps_one_scratch_buffer_for_the_next_call_and_frees_it_on_request() -> None:
    # A 64-bit argsort of n items uses 16n bytes of (key, index) scratch; the last large one
    # is kept (a fresh one costs the kernel's zeroing of every page) and reused by calls that
    # fit in it, whatever data they bring.
    from supervm import _core

    supervm.release_scratch()
    assert _core.scratch_held() == 0
    rng = np.random.default_rng(29)
    info = np.iinfo(np.int64)
    for n in (3_000_000, 2_000_000, 3_000_000, 1_100_000):
        a = rng.integers(info.min, info.max, n, dtype=np.int64)
        np.testing.assert_array_equal(supervm.argsort(a), np.argsort(a, kind="stable"))
        assert 16 * n <= _core.scratch_held() <= 2 * 16 * n + (2 << 20)
    assert _core.scratch_held() <= _core.scratch_limit()
    assert supervm.release_scratch() >= 16 * 1_100_000
    assert _core.scratch_held() == 0
    # Small calls never keep anything.
    a = rng.integers(info.min, info.max, 100_000, dtype=np.int64)
    np.testing.assert_array_equal(supervm.argsort(a), np.argsort(a, kind="stable"))
    assert _core.scratch_held() == 0
