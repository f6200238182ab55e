"""Splitter selection and bucket cutting (pure numpy, no ranks) against brute force."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import small_arrays

from supervm.dist.partition import (
    arrange_by_counts,
    bucket_counts,
    bucket_indices,
    pack,
    sorted_cuts,
)
from supervm.dist.splitters import (
    choose_splitters,
    sample_counts,
    sample_positions,
    weights_for,
)


def order_key(value: object, position: int) -> tuple:
    """Return the (key, global position) order the sort uses: NaN after every number."""
    v = float(value) if isinstance(value, (float, np.floating)) else int(value)
    return (1, 0, position) if isinstance(v, float) and math.isnan(v) else (0, v, position)


@st.composite
def cut_cases(draw: st.DrawFn) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Draw a block, its offset and sorted splitters taken from it (ties included)."""
    x = draw(small_arrays(max_size=120))
    offset = draw(st.integers(0, 1000))
    if x.size == 0:
        return x, offset, x[:0], np.zeros(0, dtype=np.int64)
    picks = draw(st.lists(st.integers(0, x.size - 1), max_size=6))
    shift = draw(st.integers(-3, 3))  # splitters may come from other ranks' positions
    pairs = sorted(((x[i], offset + i + shift) for i in picks), key=lambda p: order_key(*p))
    keys = np.array([p[0] for p in pairs], dtype=x.dtype)
    return x, offset, keys, np.array([p[1] for p in pairs], dtype=np.int64)


def brute_bucket(value: object, position: int, keys: np.ndarray, gpos: np.ndarray) -> int:
    """Return how many splitters sort strictly before the item: its bucket."""
    item = order_key(value, position)
    return sum(order_key(k, int(g)) < item for k, g in zip(keys, gpos, strict=True))


@given(cut_cases())
def test_buckets_match_brute_force(case: tuple) -> None:
    x, offset, keys, gpos = case
    buckets = bucket_indices(x, offset, keys, gpos)
    assert len(buckets) == keys.size + 1
    seen = np.concatenate(buckets) if buckets else np.zeros(0)
    assert np.array_equal(np.sort(seen), np.arange(x.size))
    for j, indices in enumerate(buckets):
        assert np.all(np.diff(indices) > 0), "local order kept within a bucket"
        for i in indices:
            assert brute_bucket(x[i], offset + int(i), keys, gpos) == j


@given(cut_cases())
def test_selection_holds_the_same_buckets(case: tuple) -> None:
    x, offset, keys, gpos = case
    buckets = bucket_indices(x, offset, keys, gpos)
    counts = bucket_counts(x, offset, keys, gpos)
    assert counts.tolist() == [len(b) for b in buckets]
    arranged = arrange_by_counts(x, counts)
    start = 0
    for indices in buckets:
        stop = start + len(indices)
        # Same values per bucket (ties are interchangeable): compare as sorted multisets.
        assert np.array_equal(np.sort(arranged[start:stop]), np.sort(x[indices]),
                              equal_nan=True)
        start = stop


@given(cut_cases())
def test_sorted_cuts_agree_with_buckets(case: tuple) -> None:
    x, offset, keys, gpos = case
    counts = [len(b) for b in bucket_indices(x, offset, keys, gpos)]
    order = np.argsort(x, kind="stable")
    cuts = sorted_cuts(x[order], order + offset, keys, gpos)
    assert np.diff(cuts).tolist() == counts


@given(small_arrays(max_size=200), st.integers(0, 50))
def test_sorted_cuts_with_implicit_positions(x: np.ndarray, offset: int) -> None:
    s = np.sort(x)
    if s.size == 0:
        return
    picks = sorted({0, s.size // 3, s.size - 1})
    keys, gpos = s[picks], np.array(picks, dtype=np.int64) + offset
    cuts = sorted_cuts(s, offset, keys, gpos)
    # Splitter j is item picks[j] itself: exactly picks[j] + 1 items are <= it.
    assert cuts[1:-1].tolist() == [p + 1 for p in picks]


def test_pack_sends_all_but_the_kept_bucket() -> None:
    x = np.array([5, 1, 4, 1, 3], dtype=np.int64)
    buckets = [np.array([1, 3]), np.array([4]), np.array([0, 2])]
    masks = [np.isin(np.arange(5), b) for b in buckets]
    counts = np.array([2, 1, 2])
    kept, kept_positions = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    items, positions = pack(x, masks, counts, 1, kept, kept_positions, offset=10)
    assert items.tolist() == [1, 1, 5, 4] and kept.tolist() == [3]
    assert positions is not None and positions.tolist() == [11, 13, 10, 12]
    assert kept_positions.tolist() == [14]
    kept = np.zeros(2, dtype=np.int64)
    items, positions = pack(x, masks, counts, 0, kept)
    assert items.tolist() == [3, 5, 4] and kept.tolist() == [1, 1] and positions is None


def test_exact_splitters_balance_all_equal_keys() -> None:
    keys = np.zeros(10, dtype=np.float64)
    gpos = np.arange(10, dtype=np.int64)
    split_keys, split_gpos = choose_splitters(keys, gpos, np.ones(10), 10, 3)
    assert split_keys.tolist() == [0.0, 0.0] and split_gpos.tolist() == [3, 6]
    counts = [len(b) for b in bucket_indices(keys, 0, split_keys, split_gpos)]
    assert counts == [4, 3, 3]


def test_sample_counts_are_proportional_and_capped() -> None:
    counts = np.array([100, 0, 300], dtype=np.int64)
    assert sample_counts(counts, oversample=1000).tolist() == [100, 0, 300]  # all of them
    per_rank = sample_counts(counts, oversample=20)  # budget 60 samples
    assert per_rank.tolist() == [15, 0, 45]
    assert weights_for(counts, per_rank).tolist() == [100 / 15] * 15 + [300 / 45] * 45
    assert sample_counts(np.zeros(2, dtype=np.int64)).tolist() == [0, 0]


@given(st.integers(1, 10_000), st.integers(1, 300), st.booleans())
def test_sample_positions_one_per_stratum(n: int, count: int, jitter: bool) -> None:
    rng = np.random.default_rng(0) if jitter else None
    where = sample_positions(n, count, rng)
    assert where.size == min(n, count)
    assert np.all(np.diff(where) > 0) and where.min() >= 0 and where.max() < n
