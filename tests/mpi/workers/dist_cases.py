"""Under mpiexec: check supervm.dist against numpy for every distribution, dtype and method.

Every rank takes its block of each generated data set; results are gathered and compared
on rank 0 with numpy over the whole set. Prints "PASS <cases>" on rank 0; any failure
prints the case and aborts the world (exit status non-zero).
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
from mpi4py import MPI

from supervm import dist
from supervm.dist import splitters
from supervm.jobs.generate import generate
from supervm.jobs.inputs import RandomSpec
from supervm.jobs.loading import block_bounds

comm = MPI.COMM_WORLD
RANK, SIZE = comm.Get_rank(), comm.Get_size()
DTYPES = ("int32", "int64", "uint32", "uint64", "float32", "float64")
DISTS = ("uniform", "normal", "zipf", "sorted", "reversed", "few-distinct", "all-equal")


def block_of(whole: np.ndarray) -> np.ndarray:
    """Return this rank's block of `whole`, as the job runner cuts it."""
    start, stop = block_bounds(whole.size, SIZE, RANK)
    return whole[start:stop].copy()


def gathered(block: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Return the concatenation of every rank's block and the block sizes."""
    blocks = comm.allgather(block)
    return np.concatenate(blocks), [b.size for b in blocks]


def balance_bound(n: int, method: str) -> float:
    """Return the largest block a balanced sort may leave on one rank."""
    per_rank = n / SIZE
    if n <= splitters.OVERSAMPLE * SIZE:  # every item sampled: exact splitters
        return math.ceil(per_rank)
    if method == "presort":  # regular samples of sorted runs: a deterministic bound
        return per_rank * (1 + 3 * SIZE / splitters.OVERSAMPLE) + 3 * SIZE
    return per_rank * 1.10 + SIZE  # jittered samples: > 6 sigma from the mean here


def check_sorts(whole: np.ndarray, label: str) -> int:
    """Check sort, argsort and rebalance of `whole` under both methods; return cases run."""
    expected = np.sort(whole)
    expected_order = np.argsort(whole, kind="stable")
    mine = block_of(whole)
    for method in ("partition", "presort"):
        case = f"{label} method={method}"
        out, sizes = gathered(dist.sort(mine, method=method))
        assert out.dtype == whole.dtype, case
        assert np.array_equal(out, expected, equal_nan=True), f"sort {case}"
        assert max(sizes) <= balance_bound(whole.size, method), f"balance {case}: {sizes}"
        order, _ = gathered(dist.argsort(mine, method=method))
        assert order.dtype == np.int64 and np.array_equal(order, expected_order), f"argsort {case}"
        kept = dist.sort(mine, method=method, rebalance=True)
        assert kept.size == mine.size, f"rebalance size {case}"
        assert np.array_equal(gathered(kept)[0], expected, equal_nan=True), f"rebalance {case}"
        kept_order = dist.argsort(mine, method=method, rebalance=True)
        assert np.array_equal(gathered(kept_order)[0], expected_order), f"argsort rebalance {case}"
    return 8


def same_everywhere(value: object) -> object:
    """Assert every rank computed the bit-identical value; return it."""
    values = comm.allgather(np.asarray(value).tobytes())
    assert all(v == values[0] for v in values), f"ranks disagree: {values}"
    return value


def close(ours: object, reference: float, scale: float, dtype: np.dtype) -> bool:
    tolerance = (1e-6 if dtype == np.float32 else 1e-12) * max(scale, 1e-300)
    return bool(abs(float(ours) - reference) <= tolerance)


def check_reductions(whole: np.ndarray, label: str) -> int:
    """Check every reduction of `whole` against numpy; return cases run."""
    mine = block_of(whole)
    wide = whole.astype(np.float64)
    scale = float(np.abs(wide).sum())
    total = same_everywhere(dist.sum(mine))
    if whole.dtype.kind in "iu":
        assert total == np.sum(whole) and type(total) is type(np.sum(whole)), f"sum {label}"
    else:
        assert close(total, float(np.sum(wide)), scale, whole.dtype), f"sum {label}"
    assert same_everywhere(dist.min(mine)) == np.min(whole), f"min {label}"
    assert same_everywhere(dist.max(mine)) == np.max(whole), f"max {label}"
    mean = same_everywhere(dist.mean(mine))
    assert close(mean, float(np.mean(wide)), scale / whole.size, whole.dtype), f"mean {label}"
    spread = float(np.var(wide)) + float(np.mean(wide)) ** 2
    for ddof in (0, 1):
        var = same_everywhere(dist.var(mine, ddof=ddof))
        assert close(var, float(np.var(wide, ddof=ddof)), spread, whole.dtype), f"var {label}"
        std = same_everywhere(dist.std(mine, ddof=ddof))
        assert close(std, float(np.std(wide, ddof=ddof)), math.sqrt(spread), whole.dtype), \
            f"std {label}"
    for bins, value_range in ((10, None), (7, (0.25, 0.75))):
        try:
            expected_counts, expected_edges = np.histogram(whole, bins, value_range)
        except ValueError:  # e.g. 10 bins over one huge integer: numpy cannot either
            try:
                dist.histogram(mine, bins, value_range)
                raise AssertionError(f"histogram {label}: numpy raised, dist did not")
            except ValueError:
                continue
        counts, edges = dist.histogram(mine, bins, value_range)
        same_everywhere(counts)
        assert np.array_equal(edges, expected_edges), f"histogram edges {label} {bins}"
        assert np.array_equal(counts, expected_counts), f"histogram counts {label} {bins}"
    return 11


def check_specials() -> int:
    """NaNs, empty ranks, and inputs the ranks disagree on."""
    cases = 0
    rng = np.random.default_rng(5)
    with_nans = rng.standard_normal(5000)
    with_nans[rng.integers(0, 5000, 300)] = np.nan
    with_nans[:7] = [np.inf, -np.inf, 0.0, -0.0, np.nan, 1.0, 1.0]
    for dtype in ("float32", "float64"):
        cases += check_sorts(with_nans.astype(dtype), f"nans {dtype}")
        assert np.isnan(dist.sum(block_of(with_nans.astype(dtype))))
        assert np.isnan(dist.max(block_of(with_nans.astype(dtype))))
    for n in (0, 1, SIZE - 1, SIZE + 1):  # some ranks hold nothing
        cases += check_sorts(np.arange(n, 0, -1, dtype=np.int64), f"tiny n={n}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own empty-mean warning
        assert np.isnan(dist.mean(np.empty(0)))
    try:
        dist.min(np.empty(0, dtype=np.int32))
        raise AssertionError("min of nothing must raise")
    except ValueError:
        cases += 1
    try:  # every rank must raise, none may wait for the others
        dist.sort(np.zeros(3, dtype=np.int64 if RANK == SIZE - 1 else np.float64))
        assert SIZE == 1, "dtype mismatch must raise"
    except TypeError as exc:
        assert "disagree on dtype" in str(exc), exc
        cases += 1
    try:  # a bad input on one rank fails every rank
        dist.sum(np.zeros(3) if RANK else [1.0, 2.0])
        raise AssertionError("a list must be refused")
    except (TypeError, dist.RemoteRankError) as exc:
        assert "numpy.ndarray" in str(exc), exc
        cases += 1
    return cases


def main() -> None:
    cases = check_specials()
    for dtype in DTYPES:
        for name in DISTS:
            whole = generate(RandomSpec(n=40_000, dtype=dtype, dist=name, seed=11))
            label = f"{name} {dtype} ranks={SIZE}"
            cases += check_sorts(whole, label)
            cases += check_reductions(whole, label)
    # Fewer samples than items: splitters are estimates and the balance bound is loose.
    splitters.OVERSAMPLE = 256
    for name in ("uniform", "zipf", "all-equal", "sorted"):
        cases += check_sorts(generate(RandomSpec(n=30_011, dtype="int64", dist=name, seed=3)),
                             f"sampled {name} ranks={SIZE}")
    if RANK == 0:
        print(f"PASS {cases} cases on {SIZE} ranks", flush=True)


if __name__ == "__main__":
    try:
        main()
    except BaseException as exc:
        print(f"rank {RANK}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        comm.Abort(1)
