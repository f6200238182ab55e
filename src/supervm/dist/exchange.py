"""All-to-all exchange of numpy buffers (no pickling) and the shift back to given counts."""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from supervm.dist._mpi import mpi_type, offsets_of
from supervm.dist.profile import Profile


def exchange_counts(comm: MPI.Comm, sendcounts: np.ndarray) -> np.ndarray:
    """Return how many items each rank will send here (one small Alltoall)."""
    recvcounts = np.empty(comm.Get_size(), dtype=np.int64)
    comm.Alltoall([np.ascontiguousarray(sendcounts, dtype=np.int64), MPI.INT64_T],
                  [recvcounts, MPI.INT64_T])
    return recvcounts


def alltoallv(
    comm: MPI.Comm,
    send: np.ndarray,
    sendcounts: np.ndarray,
    recvcounts: np.ndarray,
    profile: Profile,
    recv: np.ndarray | None = None,
) -> np.ndarray:
    """Send `sendcounts[j]` items to each rank j, in rank order; return what arrived, by rank.

    With `recv` given, this rank's own share is already in place there (its slot in rank
    order) and `send` holds only the other ranks' shares: nothing is copied to itself.
    """
    me = comm.Get_rank()
    recv_displs = offsets_of(recvcounts)
    if recv is None:
        recv = np.empty(int(recvcounts.sum()), dtype=send.dtype)
    else:
        sendcounts, recvcounts = sendcounts.copy(), recvcounts.copy()
        sendcounts[me] = recvcounts[me] = 0
    kind = mpi_type(send.dtype)
    comm.Alltoallv(
        [send, (sendcounts, offsets_of(sendcounts)), kind],
        [recv, (recvcounts, recv_displs), kind],
    )
    profile.sent_bytes += int(sendcounts.sum() - sendcounts[me]) * send.itemsize
    profile.received_bytes += int(recvcounts.sum() - recvcounts[me]) * send.itemsize
    return recv


def shift_counts(have: np.ndarray, want: np.ndarray, rank: int) -> np.ndarray:
    """Return how many of `rank`'s items go to each rank to turn counts `have` into `want`.

    Both describe consecutive blocks of one global sequence, so rank r's block overlaps a
    contiguous run of destination blocks.
    """
    have_start = offsets_of(have)[rank]
    have_stop = have_start + int(have[rank])
    want_start = offsets_of(want)
    want_stop = want_start + want
    overlap = np.minimum(want_stop, have_stop) - np.maximum(want_start, have_start)
    return np.maximum(overlap, 0)


def rebalance(comm: MPI.Comm, block: np.ndarray, want: np.ndarray, profile: Profile) -> np.ndarray:
    """Move items between ranks, keeping global order, so rank r ends with `want[r]` items."""
    have = np.array(comm.allgather(int(block.size)), dtype=np.int64)
    if int(have.sum()) != int(want.sum()):
        raise ValueError(f"cannot rebalance {int(have.sum())} items to {int(want.sum())}")
    rank = comm.Get_rank()
    sendcounts = shift_counts(have, want, rank)
    recvcounts = np.array(
        [shift_counts(have, want, source)[rank] for source in range(comm.Get_size())],
        dtype=np.int64,
    )
    return alltoallv(comm, block, sendcounts, recvcounts, profile)
