"""Start a job's ranks under mpiexec, with a deadline, and end them all on every exit path."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Environment variables set by the MPI launchers we know; any one means "I am a rank".
RANK_ENV = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")

#: Exit status of a run stopped at its deadline (as timeout(1)).
TIMED_OUT = 124

# Defaults for MPICH and Open MPI run as root in a container; a user's settings win.
_MPI_DEFAULTS = {
    # MPICH's UCX netmod spends about a second registering memory on the first large
    # exchange; libfabric (ofi) does not, and shared memory carries local ranks either way.
    "MPIR_CVAR_CH4_NETMOD": "ofi",
    # glibc returns every large array to the kernel when freed, and the kernel zeroes the
    # pages again on the next touch: a sort's buffers cost more in page faults than in
    # sorting. Keep freed memory in the process for the next phase and the next job.
    "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=4294967296:"
                      "glibc.malloc.trim_threshold=68719476736",
    # Open MPI refuses to start as root unless told it may.
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
}


def under_mpi_launcher(environ: Mapping[str, str] = os.environ) -> bool:
    """Return whether this process is a rank started by mpiexec (or srun)."""
    return any(name in environ for name in RANK_ENV)


def find_mpiexec() -> str:
    """Return the mpiexec next to this Python (the venv's mpich wheel), else the PATH's one."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(
            "mpiexec not found next to Python or on PATH; `make setup` installs MPICH into "
            ".venv, or install a system MPI"
        )
    return found


def mpi_environment(ranks: int = 1, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Return the environment for `ranks` local ranks: ours plus defaults for MPI here."""
    env = dict(environ)
    for name, value in _MPI_DEFAULTS.items():
        env.setdefault(name, value)
    if ranks > (os.cpu_count() or 1):
        # More ranks than cores: a rank waiting in MPI must yield its core to the one
        # holding it (busy polling made 4 ranks on 2 cores 1.5x slower here).
        env.setdefault("MPIR_CVAR_ENABLE_HEAVY_YIELD", "1")
    return env


def rank_command(mpiexec: str, ranks: int, job_file: Path, out: Path) -> list[str]:
    """Return the mpiexec command line that runs `job_file` as `ranks` ranks."""
    return [mpiexec, "-n", str(ranks), sys.executable, "-m", "supervm", "run",
            str(job_file), "--out", str(out)]


def _stop_group(process: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """End the process group of `process`: SIGTERM, then SIGKILL after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_ranks(command: Sequence[str], timeout: float | None,
              env: Mapping[str, str] | None = None) -> int:
    """Run `command` in its own process group; return its status (TIMED_OUT at the deadline).

    The group is ended on every exit path (deadline, Ctrl-C, an error here), so no rank
    outlives the run.
    """
    process = subprocess.Popen(list(command), env=dict(env) if env is not None else None,
                               start_new_session=True)
    started = time.monotonic()
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"supervm run: no result after {time.monotonic() - started:.0f} s "
              f"(--timeout {timeout:g}); stopping every rank", file=sys.stderr, flush=True)
        _stop_group(process)
        return TIMED_OUT
    finally:
        if process.poll() is None:
            _stop_group(process)
