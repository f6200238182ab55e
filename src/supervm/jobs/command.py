"""`supervm run job.json`: validate, then start the ranks, or run as one of them."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from supervm.jobs.launch import (
    TIMED_OUT,
    find_mpiexec,
    mpi_environment,
    rank_command,
    run_ranks,
    under_mpi_launcher,
)
from supervm.jobs.output import jsonable, new_run_dir, write_json
from supervm.jobs.validation import JobError, load_job_file

#: Seconds a failing rank waits after printing its error before it aborts the run.
_ABORT_GRACE_S = 0.5


def _print_invalid(job: str, error: JobError) -> None:
    print(f"supervm run: invalid job {job}:", file=sys.stderr)
    for line in error.problems:
        print(f"  {line}", file=sys.stderr)
    sys.stderr.flush()


def run_command(job: str, ranks: int | None, out: str | None, timeout: float | None) -> int:
    """Run `job`; return the exit status (2: invalid job, 124: timed out)."""
    if under_mpi_launcher():
        return run_as_rank(job, out, timeout)
    try:
        spec = load_job_file(job)
        mpiexec = find_mpiexec()
    except JobError as exc:
        _print_invalid(job, exc)
        return 2
    except FileNotFoundError as exc:
        print(f"supervm run: {exc}", file=sys.stderr)
        return 2
    count = ranks or spec.ranks or 1
    try:
        run_dir = Path(out) if out else new_run_dir()
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"supervm run: cannot create the run directory: {exc}", file=sys.stderr)
        return 2
    # The ranks run the validated spec (npy paths made absolute), kept with the results.
    job_file = run_dir / "job.json"
    if job_file.resolve() != Path(job).resolve():  # never overwrite the user's own file
        write_json(job_file, spec.model_dump(mode="json"))
    print(f"supervm run: {spec.kind} on {count} rank{'s' if count != 1 else ''}; "
          f"run directory {run_dir}",
          file=sys.stderr, flush=True)
    status = run_ranks(rank_command(mpiexec, count, job_file, run_dir), timeout,
                       mpi_environment(count))
    if status not in (0, TIMED_OUT):
        print(f"supervm run: failed (mpiexec exit status {status})", file=sys.stderr)
    return status


def _summary(report: dict[str, Any]) -> str:
    """Return the one-line outcome rank 0 prints to stdout."""
    where = Path(report["run_dir"])
    if report["kind"] == "render":
        return f"render: {report['frames']} frame(s) of {report['width']}x{report['height']} " \
               f"at {report['spp']} spp on {report['ranks']} rank(s) in " \
               f"{report['wall_seconds']:.2f} s -> {where}; report {where / 'result.json'}"
    if "result" in report:
        value = jsonable(report["result"])
        return f"{report['kind']} = {value} ({report['n']} x {report['dtype']}); " \
               f"report {where / 'result.json'}"
    output = report["output"].get("file") or report["output"]["manifest"]
    return f"{report['kind']}: {report['n']} x {report['dtype']} on {report['ranks']} rank(s) " \
           f"-> {where / output}; report {where / 'result.json'}"


def _arm_deadline(comm: Any, timeout: float | None) -> None:
    """Abort the whole run if it is still going after `timeout` seconds."""
    if timeout is None:
        return

    def expire() -> None:
        print(f"rank {comm.Get_rank()}: no result after --timeout {timeout:g} s; aborting",
              file=sys.stderr, flush=True)
        comm.Abort(TIMED_OUT)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()


def run_as_rank(job: str, out: str | None, timeout: float | None) -> int:
    """Run `job` as one rank of an mpiexec someone started; abort the world on any error."""
    from mpi4py import MPI

    from supervm import jobs
    from supervm.dist._mpi import RemoteRankError, agree

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    _arm_deadline(comm, timeout)
    try:
        spec = agree(comm, lambda: load_job_file(job))[rank]
    except JobError as exc:  # agree() made every rank raise: they all stop here together
        _print_invalid(job, exc)
        return 2
    except RemoteRankError:
        return 2  # the rank that could not read the job printed why
    except Exception as exc:
        print(f"rank {rank}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        report = jobs.run(spec, comm, out=out, progress=True)
        if rank == 0:
            print(_summary(report), flush=True)
        return 0
    except BaseException as exc:  # one rank's failure must end every rank, never hang
        if os.environ.get("SUPERVM_DEBUG"):
            traceback.print_exc()
        print(f"rank {rank}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        # Abort makes the launcher tear the job down at once, and MPICH's hydra may exit
        # before it forwards what the ranks just wrote (seen: the message lost when every
        # rank failed together). A moment's grace lets the reason reach the user.
        time.sleep(_ABORT_GRACE_S)
        comm.Abort(1)
        return 1
