"""Distributed sample sort and stable argsort over an MPI communicator.

Two strategies share splitter selection and the one Alltoallv of keys:
- "partition" (default up to 8 ranks): sample the unsorted block, cut it into buckets at
  the splitters, exchange, then sort what arrived with the radix kernel. One sort pass;
  sort cuts by selection (numpy.partition), argsort by stable masks (it needs positions).
- "presort" (more ranks): sort the block, sample it regularly, exchange contiguous slices,
  then merge the arrived runs by sorting them again. Its cost does not grow with the rank
  count, where cutting into p buckets costs p passes.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from mpi4py import MPI

import supervm
from supervm._checks import as_1d, as_kernel_array
from supervm.dist._mpi import agree, mpi_type, offsets_of, resolve_comm, same_dtype
from supervm.dist.exchange import alltoallv, exchange_counts, rebalance
from supervm.dist.partition import (
    arrange_by_counts,
    bucket_counts,
    bucket_masks,
    pack,
    sorted_cuts,
)
from supervm.dist.profile import Profile, profile_or_new
from supervm.dist.splitters import choose_splitters, sample_counts, sample_positions, weights_for

Method = Literal["auto", "partition", "presort"]
METHODS = ("auto", "partition", "presort")

#: Above this many ranks, "auto" sorts first: cutting into p buckets costs p passes.
PARTITION_MAX_RANKS = 8

_SAMPLE_SEED = 0x5A3B1E  # fixed, so a run is reproducible for given data and rank count


class _World:
    """What every rank agreed on before sorting: dtype, block sizes, this rank's offset."""

    def __init__(self, comm: MPI.Comm, block: np.ndarray, counts: list[int]) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.block = block
        self.counts = np.array(counts, dtype=np.int64)
        self.total = int(self.counts.sum())
        self.offset = int(offsets_of(self.counts)[self.rank])
        self.per_rank = sample_counts(self.counts)


def _agree_on_input(comm: MPI.Comm, local: Any, method: str) -> _World:
    """Validate `local` on every rank; raise on all of them if any rank's input is bad."""
    checked: list[np.ndarray] = []

    def describe() -> tuple[np.dtype, int]:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
        block = as_1d(as_kernel_array(local, "local"), "local")
        checked.append(block)
        return block.dtype, block.size

    described = agree(comm, describe)
    same_dtype([dtype for dtype, _ in described])
    return _World(comm, checked[0], [n for _, n in described])


def _resolve_method(method: str, size: int) -> str:
    if method == "auto":
        return "partition" if size <= PARTITION_MAX_RANKS else "presort"
    return method


def _local_sort(block: np.ndarray, threads: int) -> np.ndarray:
    """Sort one rank's items with the radix kernel."""
    return supervm.sort(block, threads=threads)


def _local_argsort(keys: np.ndarray, threads: int) -> np.ndarray:
    """Return the stable sorting permutation of one rank's keys."""
    return supervm.argsort(keys, threads=threads)


def _gather_samples(
    comm: MPI.Comm, keys: np.ndarray, gpos: np.ndarray, per_rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return every rank's sample keys and global positions, concatenated in rank order."""
    displs = offsets_of(per_rank)
    total = int(per_rank.sum())
    all_keys = np.empty(total, dtype=keys.dtype)
    all_gpos = np.empty(total, dtype=np.int64)
    kind = mpi_type(keys.dtype)
    comm.Allgatherv([keys, kind], [all_keys, (per_rank, displs), kind])
    comm.Allgatherv([gpos, MPI.INT64_T], [all_gpos, (per_rank, displs), MPI.INT64_T])
    return all_keys, all_gpos


def _select_splitters(
    comm: MPI.Comm, keys: np.ndarray, gpos: np.ndarray, counts: np.ndarray, per_rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gather every rank's samples and return the world's splitters (same on every rank)."""
    all_keys, all_gpos = _gather_samples(comm, keys, gpos, per_rank)
    weights = weights_for(counts, per_rank)
    return choose_splitters(all_keys, all_gpos, weights, int(counts.sum()), comm.Get_size())


def _unsorted_splitters(world: _World, prof: Profile) -> tuple[np.ndarray, np.ndarray]:
    """Sample the unsorted block at jittered positions and select the splitters."""
    with prof.phase("sample"):
        rng = np.random.default_rng([_SAMPLE_SEED, world.rank, world.size])
        where = sample_positions(world.block.size, int(world.per_rank[world.rank]), rng)
        return _select_splitters(world.comm, world.block[where], where + world.offset,
                                world.counts, world.per_rank)


def _sorted_splitters(world: _World, s: np.ndarray, gpos: np.ndarray | int,
                      prof: Profile) -> np.ndarray:
    """Sample the sorted block regularly, select the splitters, return the cut points."""
    with prof.phase("sample"):
        where = sample_positions(s.size, int(world.per_rank[world.rank]), None)
        sample_gpos = where + gpos if isinstance(gpos, int) else gpos[where]
        keys, positions = _select_splitters(world.comm, s[where], sample_gpos,
                                           world.counts, world.per_rank)
        return sorted_cuts(s, gpos, keys, positions)


def _cut(world: _World, prof: Profile) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Select splitters, mark each bucket's items, and agree on how many go where (argsort)."""
    keys, positions = _unsorted_splitters(world, prof)
    with prof.phase("partition"):
        masks = list(bucket_masks(world.block, world.offset, keys, positions))
        sendcounts = np.array([np.count_nonzero(m) for m in masks], dtype=np.int64)
    with prof.phase("exchange"):
        recvcounts = exchange_counts(world.comm, sendcounts)
    return masks, sendcounts, recvcounts


def _own_slot(world: _World, recvcounts: np.ndarray) -> slice:
    """Return where this rank's own share sits among the arrivals (rank order)."""
    start = int(offsets_of(recvcounts)[world.rank])
    return slice(start, start + int(recvcounts[world.rank]))


def _finish(world: _World, out: np.ndarray, rebalance_to_input: bool, prof: Profile) -> np.ndarray:
    if rebalance_to_input:
        with prof.phase("rebalance"):
            out = rebalance(world.comm, out, world.counts, prof)
    prof.count_out = int(out.size)
    return out


def _start(
    local: Any, comm: MPI.Comm | None, method: Method, profile: Profile | None
) -> tuple[Profile, _World, str]:
    """Agree on the input across ranks; return the profile, the world and the strategy."""
    prof = profile_or_new(profile)
    world = _agree_on_input(resolve_comm(comm), local, method)
    prof.count_in = world.block.size
    return prof, world, _resolve_method(method, world.size)


def sort(
    local: Any,
    comm: MPI.Comm | None = None,
    *,
    rebalance: bool = False,
    threads: int = 1,
    method: Method = "auto",
    profile: Profile | None = None,
) -> np.ndarray:
    """Return this rank's block of the globally sorted data (NaNs last), ranks in order.

    Every rank passes its block of the global sequence (rank order). Blocks come back
    balanced to about N/p items each, or to the input counts with `rebalance=True`.
    """
    prof, world, strategy = _start(local, comm, method, profile)
    if world.size == 1 or world.total == 0:
        with prof.phase("sort"):
            out = _local_sort(world.block, threads)
        return _finish(world, out, False, prof)
    if strategy == "partition":
        keys, positions = _unsorted_splitters(world, prof)
        with prof.phase("partition"):
            sendcounts = bucket_counts(world.block, world.offset, keys, positions)
            items = arrange_by_counts(world.block, sendcounts)
    else:
        with prof.phase("sort"):
            items = _local_sort(world.block, threads)
        sendcounts = np.diff(_sorted_splitters(world, items, world.offset, prof))
    with prof.phase("exchange"):
        recvcounts = exchange_counts(world.comm, sendcounts)
        received = alltoallv(world.comm, items, sendcounts, recvcounts, prof)
    del items
    with prof.phase("sort" if strategy == "partition" else "merge"):
        out = _local_sort(received, threads)
    return _finish(world, out, rebalance, prof)


def argsort(
    local: Any,
    comm: MPI.Comm | None = None,
    *,
    rebalance: bool = False,
    threads: int = 1,
    method: Method = "auto",
    profile: Profile | None = None,
) -> np.ndarray:
    """Return this rank's block of the global int64 indices of a stable sort.

    The global index of an item is its rank's offset (items on lower ranks) plus its
    local index; the concatenation of the blocks is numpy.argsort(all, kind="stable").
    """
    prof, world, strategy = _start(local, comm, method, profile)
    if world.size == 1 or world.total == 0:
        with prof.phase("sort"):
            out = _local_argsort(world.block, threads) + world.offset
        return _finish(world, out, False, prof)
    if strategy == "partition":
        masks, sendcounts, recvcounts = _cut(world, prof)
        with prof.phase("partition"):
            own = _own_slot(world, recvcounts)
            received = np.empty(int(recvcounts.sum()), dtype=world.block.dtype)
            received_gpos = np.empty(received.size, dtype=np.int64)
            items, gpos = pack(world.block, masks, sendcounts, world.rank, received[own],
                               received_gpos[own], world.offset)
            del masks
        assert gpos is not None  # pack builds positions when given somewhere to keep its own
        with prof.phase("exchange"):
            alltoallv(world.comm, items, sendcounts, recvcounts, prof, recv=received)
            alltoallv(world.comm, gpos, sendcounts, recvcounts, prof, recv=received_gpos)
    else:
        with prof.phase("sort"):
            order = _local_argsort(world.block, threads)
            items = world.block[order]
            gpos = order + world.offset
        sendcounts = np.diff(_sorted_splitters(world, items, gpos, prof))
        with prof.phase("exchange"):
            recvcounts = exchange_counts(world.comm, sendcounts)
            received = alltoallv(world.comm, items, sendcounts, recvcounts, prof)
            received_gpos = alltoallv(world.comm, gpos, sendcounts, recvcounts, prof)
    del items, gpos
    # Arrivals are in rank order and each rank's in global order, so a stable sort of
    # the keys leaves equal keys in global-index order.
    with prof.phase("sort" if strategy == "partition" else "merge"):
        out = received_gpos[_local_argsort(received, threads)]
    return _finish(world, out, rebalance, prof)
