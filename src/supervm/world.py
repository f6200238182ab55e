"""The persistent MPI world: `mpiexec -n N python -m supervm.world --socket PATH`.

Rank 0 listens on a Unix socket and accepts one connection (the service). For each job
message it hands the job to every other rank, every rank runs `supervm.jobs.run`, and rank
0 answers with the report. A job's error is raised on every rank by the runner's agreement
steps, so the world answers {"ok": false, "error": ...} and stays up for the next job.
The world knows MPI and jobs, never HTTP.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from supervm import wire

#: MPI tag of the messages rank 0 forwards to the other ranks.
_JOB_TAG = 7001

#: Longest sleep between probes of an idle non-root rank: bounds the added latency of the
#: next job while keeping an idle world near zero CPU (a blocking receive would spin a core).
_MAX_IDLE_SLEEP_S = 0.001
#: Seconds after a job during which an idle rank only yields between probes: jobs tend to
#: come in bursts, and a sleeping rank delays the next job's first collective.
_EAGER_S = 0.05

#: Jobs with fewer elements than this run on rank 0 alone (default of --solo-below): on a
#: few elements the collectives of a distributed run cost more than the work.
SOLO_BELOW = 65_536

#: Jobs at least this large hand freed memory back to the system afterwards; the MPI
#: environment keeps freed buffers in the process, right for one run, wrong for a world
#: that idles between jobs.
_TRIM_AFTER_ELEMENTS = 1_000_000


def node_info(comm: Any) -> dict[str, Any]:
    """Return where this rank runs: host, pid, CPU count."""
    from mpi4py import MPI

    return {"rank": comm.Get_rank(), "host": MPI.Get_processor_name(), "pid": os.getpid(),
            "cpus": os.cpu_count() or 1}


def _trim_memory() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to hand back
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def run_job(comm: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Run the job in `message` on this rank; return {"ok": ...} with the report or error."""
    from supervm import jobs

    try:
        report = jobs.run(message["spec"], comm, out=message["run_dir"])
        outcome: dict[str, Any] = {"ok": True, "report": report}
        large = int(report.get("n", 0)) >= _TRIM_AFTER_ELEMENTS
    except Exception as exc:  # the runner made every rank raise: the world goes on
        outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        large = True
    if large:
        _trim_memory()
    return outcome


def _follow(comm: Any) -> None:
    """Run, on a rank other than 0, each job rank 0 forwards until told to stop."""
    from mpi4py import MPI

    sleep, eager_until = 0.0, time.monotonic() + _EAGER_S
    while True:
        if not comm.Iprobe(source=0, tag=_JOB_TAG):
            if time.monotonic() < eager_until:
                time.sleep(0)
            else:
                time.sleep(sleep)
                sleep = min(_MAX_IDLE_SLEEP_S, max(sleep * 2, 50e-6))
            continue
        message = comm.recv(source=0, tag=_JOB_TAG, status=MPI.Status())
        if message.get("type") != "job":
            return
        run_job(comm, message)
        sleep, eager_until = 0.0, time.monotonic() + _EAGER_S


def runs_solo(message: dict[str, Any], solo_below: int) -> bool:
    """Return whether a job is small enough to run on rank 0 alone."""
    from supervm.jobs.loading import input_size
    from supervm.jobs.validation import parse_job

    if solo_below <= 0:
        return False
    try:
        return input_size(parse_job(message["spec"]).input) < solo_below
    except Exception:  # an invalid job fails the same way on every rank: let them all see it
        return False


def _forward(comm: Any, message: dict[str, Any]) -> None:
    for rank in range(1, comm.Get_size()):
        comm.send(message, dest=rank, tag=_JOB_TAG)


def _listen(path: Path) -> socket.socket:
    """Return a listening Unix socket at `path` that only this user may connect to."""
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_mask)
    listener.listen(1)
    return listener


def _lead(comm: Any, path: Path, nodes: list[dict[str, Any]], accept_timeout: float,
          solo_below: int) -> int:
    """Serve the one connection from the service on rank 0; return the exit status."""
    from mpi4py import MPI

    listener = _listen(path)
    listener.settimeout(accept_timeout)
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        print(f"supervm.world: no service connected within {accept_timeout:g} s",
              file=sys.stderr, flush=True)
        _forward(comm, {"type": "stop"})
        return 3
    finally:
        listener.close()
        path.unlink(missing_ok=True)
    conn.settimeout(None)
    with conn:
        wire.send(conn, {"type": "ready", "size": comm.Get_size(), "nodes": nodes,
                         "pid": os.getpid()})
        while True:
            try:
                message = wire.receive(conn)
            except (wire.WireError, OSError):
                break  # the service went away: so does the world
            kind = message.get("type")
            if kind == "ping":
                wire.send(conn, {"type": "pong", "at": time.time()})
            elif kind == "job":
                if runs_solo(message, solo_below):
                    outcome = run_job(MPI.COMM_SELF, message)
                else:
                    _forward(comm, message)
                    outcome = run_job(comm, message)
                wire.send(conn, {"type": "done", "task_id": message.get("task_id"), **outcome})
            elif kind == "stop":
                break
            else:
                wire.send(conn, {"type": "error", "error": f"unknown message type {kind!r}"})
    _forward(comm, {"type": "stop"})
    return 0


def main(argv: list[str] | None = None) -> int:
    """Start this rank of the world; return its exit status."""
    parser = argparse.ArgumentParser(prog="python -m supervm.world", description=__doc__)
    parser.add_argument("--socket", required=True, help="Unix socket path rank 0 listens on")
    parser.add_argument("--accept-timeout", type=float, default=60.0,
                        help="seconds rank 0 waits for the service to connect (60)")
    parser.add_argument("--solo-below", type=int, default=SOLO_BELOW,
                        help=f"run jobs of fewer elements on rank 0 alone ({SOLO_BELOW}; "
                             "0: every job on every rank)")
    args = parser.parse_args(argv)
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    nodes = comm.gather(node_info(comm), root=0)
    if comm.Get_rank() == 0:
        return _lead(comm, Path(args.socket), nodes, args.accept_timeout, args.solo_below)
    _follow(comm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
