"""Run a job file or a command as MPI ranks inside a cluster's guests."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import libvirt

from supervm.jobs.launch import TIMED_OUT, _stop_group, find_mpiexec, mpi_environment
from supervm.jobs.output import write_json
from supervm.jobs.validation import load_job_file
from supervm.launcher import mpi, ssh, staging
from supervm.launcher.state import RunState


def run_in_guests(run: RunState, state_dir: Path, *, job: str | None = None,
                  command: list[str] | None = None, ranks: int | None = None,
                  timeout: float | None = 600.0) -> tuple[int, Path]:
    """Start the job (or command) with its ranks in the guests; return (status, out dir)."""
    if run.phase not in ("ready", "running"):
        raise RuntimeError(f"run {run.run_id} is not ready (phase {run.phase})")
    addresses = [g.address for g in run.guests]
    count = ranks or len(addresses)
    per_guest = -(-count // len(addresses))
    run_dir = run.run_dir(state_dir)
    work = Path(run.work_dir)
    # Each job gets its own output directory inside the shared (read-write) work dir.
    out = work / f"job-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    out.mkdir(parents=True)
    if job is not None:
        data = load_job_file(job).model_dump(mode="json")
        source = data["input"].get("npy") if isinstance(data["input"], dict) else None
        if source:
            # Guests see the host's root as it was at boot: stage the input in the
            # work directory they all mount read-write (remote guests get a copy).
            staged = out / ("input-" + Path(source).name)
            shutil.copyfile(source, staged)
            data["input"]["npy"] = str(staged)
        job_file = out / "job.json"
        write_json(job_file, data)
        program = [sys.executable, "-m", "supervm", "run", str(job_file), "--out", str(out)]
    elif command:
        program = list(command)
    else:
        raise ValueError("give a job file or a command")
    hostfile = mpi.write_hostfile(run_dir / "hostfile", addresses, per_guest)
    env = mpi_environment(per_guest)
    if run.launcher == "ssh":
        launcher = ssh.write_launcher(run_dir, Path(run.ssh_key))
    else:
        launcher, mapping = mpi.write_agent(run_dir, run.uri,
                                            {g.address: g.name for g in run.guests},
                                            {g.address: run.uri_of(g) for g in run.guests})
        env[mpi.HOSTS_ENV] = str(mapping)
    argv = mpi.mpiexec_command(find_mpiexec(), launcher, hostfile, run.host_address, count,
                               per_guest, program,
                               wdir=run.work_dir if run.kind == "image" else None)
    # Guests on remote hosts do not share the work directory: the job's files go over ssh.
    remote = [g for g in run.guests if g.remote]
    if remote:
        staging.push(remote, Path(run.ssh_key), out)
    print(f"supervm-launch: {shlex.join(argv)}", file=sys.stderr, flush=True)
    status = _run_watching_guests(run, argv, timeout, env)
    if remote:
        try:
            staging.pull(remote, Path(run.ssh_key), out)
        except staging.StagingError as exc:
            if status == 0:
                raise
            print(f"supervm-launch: {exc}", file=sys.stderr, flush=True)  # the job failed
    if status not in (0, TIMED_OUT):
        print(f"supervm-launch: job failed (mpiexec exit status {status})", file=sys.stderr,
              flush=True)
    return status, out


def _stopped_guest(conns: dict[str, libvirt.virConnect], run: RunState) -> str | None:
    """Return 'NAME (ADDRESS)' of the first guest that is no longer running, else None."""
    for guest in run.guests:
        try:
            if conns[run.uri_of(guest)].lookupByName(guest.name).isActive():
                continue
        except libvirt.libvirtError:
            pass
        return f"{guest.name} ({guest.address})"
    return None


def _run_watching_guests(run: RunState, argv: list[str], timeout: float | None,
                         env: Mapping[str, str], poll_s: float = 1.0) -> int:
    """Run mpiexec; stop it when a guest stops (hydra would wait for its proxy forever)."""
    conns = {uri: libvirt.open(uri) for uri in run.uris()}
    process = subprocess.Popen(argv, env=dict(env), start_new_session=True)
    end = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            try:
                return process.wait(timeout=poll_s)
            except subprocess.TimeoutExpired:
                pass
            lost = _stopped_guest(conns, run)
            if lost is not None:
                print(f"supervm-launch: guest {lost} lost: it stopped during the run; "
                      "stopping every rank", file=sys.stderr, flush=True)
                _stop_group(process)
                return 1
            if end is not None and time.monotonic() > end:
                print(f"supervm-launch: no result after --timeout {timeout:g} s; stopping "
                      "every rank", file=sys.stderr, flush=True)
                _stop_group(process)
                return TIMED_OUT
    finally:
        if process.poll() is None:
            _stop_group(process)
        for conn in conns.values():
            conn.close()
