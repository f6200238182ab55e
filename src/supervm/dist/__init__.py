"""supervm.dist: the kernels across MPI ranks, on an mpi4py communicator (COMM_WORLD default).

Each rank passes its block of one global sequence (blocks in rank order). Sorts return
this rank's block of the sorted result; reductions return the same value on every rank.
Bad input on any rank (dtype, shape, arguments) raises on every rank. A failure after that
(out of memory mid-exchange) leaves the other ranks waiting: `supervm run` aborts the
world then; other callers should catch, report and call `comm.Abort()`.
"""

from supervm.dist._mpi import RemoteRankError
from supervm.dist.profile import Profile
from supervm.dist.reductions import histogram, max, mean, min, std, sum, var
from supervm.dist.rendering import render, render_frames
from supervm.dist.sorting import argsort, sort

__all__ = [
    "Profile",
    "RemoteRankError",
    "argsort",
    "histogram",
    "max",
    "mean",
    "min",
    "render",
    "render_frames",
    "sort",
    "std",
    "sum",
    "var",
]
