"""Under mpiexec: `supervm run JOB ...` as a rank, with rank 1 failing inside the sort.

    rank_fault.py raise|kill JOB [run options]

raise: rank 1 raises in its local sort while the others wait in the exchange;
kill: rank 1 sends itself SIGKILL there.
"""

from __future__ import annotations

import os
import signal
import sys

from mpi4py import MPI

import supervm.dist.sorting as sorting
from supervm.cli import main

MODE = sys.argv[1]
real_local_sort = sorting._local_sort


def failing_local_sort(block, threads):  # type: ignore[no-untyped-def]
    if MPI.COMM_WORLD.Get_rank() == 1:
        if MODE == "raise":
            raise RuntimeError("injected failure on purpose")
        os.kill(os.getpid(), signal.SIGKILL)
    return real_local_sort(block, threads)


sorting._local_sort = failing_local_sort
sys.exit(main(["run", *sys.argv[2:]]))
