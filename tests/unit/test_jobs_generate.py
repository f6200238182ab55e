"""Generated inputs: the same global data for any rank count, with each distribution's shape."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervm.jobs.generate import CHUNK, generate
from supervm.jobs.inputs import RandomSpec
from supervm.jobs.loading import block_bounds

DTYPES = ("int32", "int64", "uint32", "uint64", "float32", "float64")
DISTS = ("uniform", "normal", "zipf", "sorted", "reversed", "few-distinct", "all-equal")


@given(st.integers(0, 10**7), st.integers(1, 64))
def test_blocks_tile_the_whole(n: int, ranks: int) -> None:
    bounds = [block_bounds(n, ranks, r) for r in range(ranks)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("dist", DISTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_any_rank_count_sees_the_same_data(dtype: str, dist: str) -> None:
    spec = RandomSpec(n=CHUNK + 12_345, dtype=dtype, dist=dist, seed=3)
    whole = generate(spec)
    assert whole.dtype == np.dtype(dtype) and whole.size == spec.n
    for ranks in (3, 7):
        blocks = [generate(spec, *block_bounds(spec.n, ranks, r)) for r in range(ranks)]
        assert np.array_equal(np.concatenate(blocks), whole)
    if dist == "sorted":
        assert np.all(whole[1:] >= whole[:-1])
    elif dist == "reversed":
        assert np.all(whole[1:] <= whole[:-1])
    elif dist == "few-distinct":
        assert np.unique(whole).size == 4
    elif dist == "all-equal":
        assert np.unique(whole).size == 1
    elif dist == "zipf":
        assert whole.min() >= 1 and np.mean(whole == 1) > 0.15  # 1 - 2**-0.3: heavy duplicates
        assert np.mean(whole <= 10) < 0.6 and whole.max() > 10**6  # and a heavy tail
    else:
        assert np.unique(whole[:10_000]).size > 9_000


def test_seeds_and_distributions_differ() -> None:
    base = generate(RandomSpec(n=1000, seed=1))
    assert np.array_equal(base, generate(RandomSpec(n=1000, seed=1)))
    assert not np.array_equal(base, generate(RandomSpec(n=1000, seed=2)))
    assert not np.array_equal(base, generate(RandomSpec(n=1000, seed=1, dist="normal")))


def test_uniform_floats_and_full_range_integers() -> None:
    floats = generate(RandomSpec(n=100_000, dtype="float32"))
    assert floats.min() >= 0 and floats.max() < 1
    ints = generate(RandomSpec(n=100_000, dtype="int64"))
    assert ints.min() < -(2**62) and ints.max() > 2**62


def test_blocks_outside_the_data_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        generate(RandomSpec(n=10), 5, 11)
