"""The communicator plumbing every distributed algorithm shares: defaults, types, agreement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from mpi4py import MPI
from mpi4py.util.dtlib import from_numpy_dtype

T = TypeVar("T")


class RemoteRankError(RuntimeError):
    """Raised on every rank when another rank failed a step they all had to agree on."""

    def __init__(self, rank: int, message: str) -> None:
        super().__init__(f"rank {rank} failed: {message}")
        self.rank = rank


def resolve_comm(comm: MPI.Comm | None) -> MPI.Comm:
    """Return `comm`, or COMM_WORLD when it is None."""
    return MPI.COMM_WORLD if comm is None else comm


def mpi_type(dtype: np.dtype) -> MPI.Datatype:
    """Return the MPI datatype of one element of `dtype`."""
    return from_numpy_dtype(np.dtype(dtype))


@dataclass(frozen=True)
class _Outcome:
    """What one rank reports to the others: its value, or why it failed."""

    value: Any = None
    error: str | None = None


def agree(comm: MPI.Comm, step: Callable[[], T]) -> list[T]:
    """Run `step` on every rank and return every rank's value, in rank order.

    One allgather carries the values; if any rank's `step` raised, every rank raises too
    (the failing rank its own exception, the others RemoteRankError), so no rank is left
    waiting in a later collective.
    """
    failure: BaseException | None = None
    try:
        outcome = _Outcome(value=step())
    except Exception as exc:  # every failure must reach the other ranks
        failure = exc
        outcome = _Outcome(error=f"{type(exc).__name__}: {exc}")
    outcomes: list[_Outcome] = comm.allgather(outcome)
    for rank, theirs in enumerate(outcomes):
        if theirs.error is not None:
            if failure is not None:
                raise failure
            raise RemoteRankError(rank, theirs.error)
    return [o.value for o in outcomes]


def same_dtype(dtypes: list[np.dtype]) -> np.dtype:
    """Return the one dtype every rank holds; raise naming the ranks that disagree."""
    first = dtypes[0]
    for rank, dtype in enumerate(dtypes):
        if dtype != first:
            raise TypeError(
                f"ranks disagree on dtype: rank 0 has {first}, rank {rank} has {dtype}; "
                "every rank must pass an array of the same dtype"
            )
    return first


def offsets_of(counts: np.ndarray) -> np.ndarray:
    """Return the exclusive prefix sum of `counts` (where each rank's block starts)."""
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out
