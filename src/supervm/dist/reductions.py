"""Distributed reductions: local partial states, one small collective, merge in rank order.

Every rank merges the same gathered states in the same order, so every rank returns the
bit-identical result.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from mpi4py import MPI

import supervm
from supervm._checks import as_kernel_array, flat
from supervm.dist._mpi import agree, resolve_comm, same_dtype
from supervm.dist.profile import Profile, profile_or_new
from supervm.partials import HistogramState, MinMaxState, MomentState, SumState
from supervm.reductions import _check_ddof

S = TypeVar("S", SumState, MinMaxState, MomentState)


def _flat_block(local: Any) -> np.ndarray:
    return flat(as_kernel_array(local, "local"))


def _merged(
    comm: MPI.Comm | None, local: Any, make: Callable[[np.ndarray], S], profile: Profile | None
) -> S:
    """Return the merge, in rank order, of every rank's state of its block."""
    prof = profile_or_new(profile)
    started = time.perf_counter()
    local_seconds = 0.0

    def step() -> S:
        nonlocal local_seconds
        block = _flat_block(local)
        prof.count_in = prof.count_out = int(block.size)
        state = make(block)
        local_seconds = time.perf_counter() - started
        return state

    states = agree(resolve_comm(comm), step)
    same_dtype([s.dtype for s in states])
    merged = functools.reduce(lambda a, b: a.merge(b), states)
    prof.record("local", local_seconds)
    prof.record("combine", time.perf_counter() - started - local_seconds)
    return merged


def sum(local: Any, comm: MPI.Comm | None = None, *, threads: int = 1,
        profile: Profile | None = None) -> Any:
    """Return the sum over every rank's block (numpy's dtype; exact for integers)."""
    return _merged(comm, local, lambda a: supervm.sum_state(a, threads=threads), profile).result()


def mean(local: Any, comm: MPI.Comm | None = None, *, threads: int = 1,
         profile: Profile | None = None) -> Any:
    """Return the mean over every rank's block (NaN with a warning when all are empty)."""
    return _merged(comm, local, lambda a: supervm.sum_state(a, threads=threads), profile).mean()


def min(local: Any, comm: MPI.Comm | None = None, *, threads: int = 1,
        profile: Profile | None = None) -> Any:
    """Return the smallest item over every rank (NaN if any; ValueError when all empty)."""
    state = _merged(comm, local, lambda a: supervm.minmax_state(a, threads=threads), profile)
    return state.result_min()


def max(local: Any, comm: MPI.Comm | None = None, *, threads: int = 1,
        profile: Profile | None = None) -> Any:
    """Return the largest item over every rank (NaN if any; ValueError when all empty)."""
    state = _merged(comm, local, lambda a: supervm.minmax_state(a, threads=threads), profile)
    return state.result_max()


def _moments(comm: MPI.Comm | None, local: Any, ddof: Any, threads: int,
             profile: Profile | None) -> tuple[MomentState, float]:
    def make(block: np.ndarray) -> MomentState:
        _check_ddof(ddof)  # inside the agreed step: a bad ddof fails on every rank
        return supervm.moment_state(block, threads=threads)

    return _merged(comm, local, make, profile), ddof


def var(local: Any, comm: MPI.Comm | None = None, *, ddof: float = 0, threads: int = 1,
        profile: Profile | None = None) -> Any:
    """Return the variance over every rank's block with `ddof` delta degrees of freedom."""
    state, ddof = _moments(comm, local, ddof, threads, profile)
    return state.var(ddof)


def std(local: Any, comm: MPI.Comm | None = None, *, ddof: float = 0, threads: int = 1,
        profile: Profile | None = None) -> Any:
    """Return the standard deviation over every rank's block with `ddof`."""
    state, ddof = _moments(comm, local, ddof, threads, profile)
    return state.std(ddof)


def histogram(
    local: Any,
    bins: int = 10,
    range: Any = None,
    comm: MPI.Comm | None = None,
    *,
    threads: int = 1,
    profile: Profile | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return `(counts, edges)` over every rank's block, as numpy.histogram of them all.

    The range, when not given, comes from the merged min/max of every rank (one
    collective); the counts are then summed with one Allreduce.
    """
    world = resolve_comm(comm)
    prof = profile_or_new(profile)
    checked: list[np.ndarray] = []

    def describe() -> tuple[np.dtype, MinMaxState | None, Any]:
        block = _flat_block(local)
        checked.append(block)
        prof.count_in = prof.count_out = int(block.size)
        extremes = supervm.minmax_state(block, threads=threads) if range is None else None
        return block.dtype, extremes, repr((bins, range))

    with prof.phase("local"):
        described = agree(world, describe)
        dtype = same_dtype([d for d, _, _ in described])
        if any(params != described[0][2] for _, _, params in described):
            raise ValueError("ranks disagree on bins or range; pass the same to every rank")
        extremes = None
        if range is None:
            extremes = functools.reduce(lambda a, b: a.merge(b), [e for _, e, _ in described])
        # Same merged state and arguments everywhere: a bad range fails on every rank.
        edges = supervm.uniform_edges(extremes, bins, range, dtype)
        counts = supervm.histogram_state(checked[0], edges=edges, threads=threads).counts
    with prof.phase("combine"):
        total = np.empty_like(counts)
        world.Allreduce([counts, MPI.UINT64_T], [total, MPI.UINT64_T], op=MPI.SUM)
    return HistogramState(edges, total).result()
