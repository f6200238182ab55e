"""`supervm-launch up | run | down | status | doctor | gc | daemon`: clusters of real guests."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import libvirt

from supervm.jobs.output import new_run_dir
from supervm.jobs.validation import JobError
from supervm.launcher import cluster, doctor, network
from supervm.launcher.daemon import DaemonError
from supervm.launcher.guests import ReadinessError
from supervm.launcher.spec import SpecError, load_spec
from supervm.launcher.state import DEFAULT_STATE_DIR, RunState, list_runs
from supervm.launcher.undo import Interrupted, signals_raise


def _err(message: str) -> None:
    print(f"supervm-launch: {message}", file=sys.stderr, flush=True)


def _load_run(state_dir: Path, run_id: str | None) -> RunState:
    runs = list_runs(state_dir)
    if run_id is None:
        if not runs:
            raise LookupError(f"no runs under {state_dir}")
        run_id = runs[-1]
    try:
        return RunState.load(state_dir, run_id)
    except FileNotFoundError:
        raise LookupError(f"no run {run_id} under {state_dir}") from None


def cmd_up(args: argparse.Namespace) -> int:
    """Bring a cluster up and print its run id and addresses."""
    spec = load_spec(args.spec)
    run = cluster.up(spec, args.state_dir, deadline_s=args.deadline)
    print(run.run_id)
    for guest in run.guests:
        print(f"  {guest.name}  {guest.address}  {guest.state}", file=sys.stderr)
    _err(f"up: {len(run.guests)} {run.accel} guest(s) ready in "
         f"{run.timings['up_to_ready_s']:.1f} s")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run a job or command in a cluster's guests (--ephemeral: up, run, down)."""
    from supervm.launcher.jobrun import run_in_guests

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if bool(args.job) == bool(command):
        raise ValueError("give either --job FILE or a command after --")
    with signals_raise():  # SIGTERM unwinds too: mpiexec and an ephemeral cluster go
        return _run(args, command, run_in_guests)


def _run(args: argparse.Namespace, command: list[str], run_in_guests: Any) -> int:
    started = time.monotonic()
    if args.ephemeral:
        run = cluster.up(load_spec(args.ephemeral), args.state_dir, deadline_s=args.deadline)
        _err(f"up: ready in {run.timings['up_to_ready_s']:.1f} s (run {run.run_id})")
    else:
        run = _load_run(args.state_dir, args.run)
    status = 1
    try:
        status, out = run_in_guests(run, args.state_dir, job=args.job, command=command,
                                    ranks=args.np, timeout=args.timeout)
        if args.out or args.ephemeral:
            # The work directory goes with the cluster: keep a copy where the user asked.
            kept = Path(args.out) if args.out else new_run_dir()
            shutil.copytree(out, kept, dirs_exist_ok=True)
            out = kept
        if status == 0 and args.job:
            _err(f"job results in {out}")
    finally:
        if args.ephemeral:
            failures = cluster.down(run, args.state_dir)
            _err(f"ephemeral run {'cleaned up' if not failures else 'left: ' + str(failures)}"
                 f"; total {time.monotonic() - started:.1f} s")
    return status


def cmd_down(args: argparse.Namespace) -> int:
    """Remove a run's guests, bridge and files."""
    ids = list_runs(args.state_dir) if args.all else [_load_run(args.state_dir, args.run).run_id]
    bad = 0
    for run_id in ids:
        failures = cluster.down(RunState.load(args.state_dir, run_id), args.state_dir)
        _err(f"down {run_id}: " + ("done" if not failures else "; ".join(failures)))
        bad += len(failures)
    return 1 if bad else 0


def cmd_status(args: argparse.Namespace) -> int:
    """Show runs: guests, addresses, libvirt state, resources."""
    rows = []
    for run_id in list_runs(args.state_dir):
        run = RunState.load(args.state_dir, run_id)
        live = {}
        for uri in run.uris():
            mine = [g for g in run.guests if run.uri_of(g) == uri]
            try:
                conn = cluster.connect(uri)
            except libvirt.libvirtError:
                live.update({g.name: "unknown (no libvirt)" for g in mine})
                continue
            for guest in mine:
                try:
                    live[guest.name] = "running" if conn.lookupByName(guest.name).isActive() \
                        else "shut off"
                except libvirt.libvirtError:
                    live[guest.name] = "missing"
            conn.close()
        rows.append({"run": run_id, "phase": run.phase, "kind": run.kind,
                     "launcher": run.launcher, "accel": run.accel, "bridge": run.bridge,
                     "guests": [{"name": g.name, "address": g.address, "vcpus": g.vcpus,
                                 "memory_mib": g.memory_mib, "state": live[g.name],
                                 "uri": run.uri_of(g)}
                                for g in run.guests], "timings": run.timings})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"run {row['run']}  phase {row['phase']}  kind {row['kind']}  "
              f"launcher {row['launcher']}  accel {row['accel']}  bridge {row['bridge']}")
        for g in row["guests"]:
            print(f"  {g['name']}  {g['address']}  {g['state']}  {g['vcpus']} vCPU  "
                  f"{g['memory_mib']} MiB  {g['uri']}")
    if not rows:
        print("no runs")
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    """Remove everything tagged by runs that are gone."""
    removed = cluster.gc(args.state_dir, args.uri)
    for line in removed:
        print(f"removed {line}")
    if not removed:
        print("nothing to collect")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check libvirt, KVM, the guest kernel and initramfs, bridges."""
    return doctor.run(args.uri, args.state_dir, probe_kvm=not args.no_kvm_probe)


def cmd_daemon(args: argparse.Namespace) -> int:
    """Run virtlogd and libvirtd in the foreground until Ctrl-C (machines without systemd)."""
    from supervm.launcher import daemon

    daemons = daemon.start()
    _err(f"libvirtd pid {daemons.libvirtd.pid}, virtlogd pid {daemons.virtlogd.pid}; Ctrl-C stops")
    try:
        with signals_raise():
            while daemons.libvirtd.poll() is None:
                time.sleep(0.5)
    except Interrupted:
        pass
    finally:
        daemons.stop()
    return 0


def parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    p = argparse.ArgumentParser(prog="supervm-launch", description=__doc__)
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR,
                   help=f"where runs keep their state (default {DEFAULT_STATE_DIR})")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("up", help="create the guests of a spec and wait until ready")
    s.add_argument("spec", help="cluster spec (TOML, see launch/)")
    s.add_argument("--deadline", type=float, default=180.0, help="seconds to ready")
    s = sub.add_parser("run", help="run a job file or a command with ranks in the guests")
    s.add_argument("--run", help="run id (default: the newest)")
    s.add_argument("--ephemeral", metavar="SPEC", help="up, run, down in one go")
    s.add_argument("--job", help="job file (see `supervm run --help`)")
    s.add_argument("--np", type=int, help="ranks (default: one per guest)")
    s.add_argument("--out", help="copy the job's results here (--ephemeral default: runs/...)")
    s.add_argument("--timeout", type=float, default=600.0, help="seconds for the job")
    s.add_argument("--deadline", type=float, default=180.0, help="seconds to ready")
    s.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    s = sub.add_parser("down", help="remove a run's guests, bridge and files")
    s.add_argument("run", nargs="?", help="run id (default: the newest)")
    s.add_argument("--all", action="store_true", help="every run")
    s = sub.add_parser("status", help="show runs and guests")
    s.add_argument("--json", action="store_true")
    for name, helptext in (("gc", "remove what runs that are gone left"),
                           ("doctor", "check this machine")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("--uri", default="qemu:///system")
        if name == "doctor":
            s.add_argument("--no-kvm-probe", action="store_true", help="skip the KVM boot test")
    sub.add_parser("daemon", help="run libvirtd in the foreground (no systemd)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one subcommand; errors are one line and a non-zero status."""
    args = parser().parse_args(argv)
    handler = {"up": cmd_up, "run": cmd_run, "down": cmd_down, "status": cmd_status,
               "gc": cmd_gc, "doctor": cmd_doctor, "daemon": cmd_daemon}[args.cmd]
    try:
        return handler(args)
    except SpecError as exc:
        _err(f"invalid spec {exc.source}:")
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    except JobError as exc:
        _err("invalid job: " + "; ".join(exc.problems))
        return 2
    except ReadinessError as exc:
        _err(f"not ready: {exc}")
        return 3
    except Interrupted as exc:
        _err(f"{exc}; everything this run made was removed")
        return 130
    except libvirt.libvirtError as exc:
        _err(f"libvirt: {exc.get_error_message()}")
        return 1
    except (DaemonError, network.NetworkError, LookupError, ValueError, RuntimeError,
            OSError) as exc:
        _err(str(exc))
        return 1

