"""Bring a cluster up and down: each phase saved, every step on an undo stack."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

import libvirt

from supervm.launcher import accel, guests, network, volumes
from supervm.launcher.hostfs import HostfsBuilder
from supervm.launcher.image import ImageBuilder
from supervm.launcher.spec import ClusterSpec
from supervm.launcher.state import (
    GuestState,
    RunState,
    bridge_name,
    domain_name,
    list_runs,
    new_run_id,
)
from supervm.launcher.undo import UndoStack, undo_on_failure

# libvirt prints every error it raises to stderr by default; we report them ourselves.
libvirt.registerErrorHandler(lambda *_: None, None)

#: What makes a kind's guests: hostfs.HostfsBuilder or image.ImageBuilder.
GuestBuilder = HostfsBuilder | ImageBuilder


def connect(uri: str) -> libvirt.virConnect:
    """Open a libvirt connection (errors carry libvirt's message)."""
    return libvirt.open(uri)


def builder_for(spec: ClusterSpec, state_dir: Path) -> GuestBuilder:
    """Return the guest builder of the spec's kind."""
    if spec.kind == "image":
        return ImageBuilder(spec, state_dir)
    return HostfsBuilder(spec, state_dir)


def up(spec: ClusterSpec, state_dir: Path, deadline_s: float = 120.0,
       run_id: str | None = None, log: object = print) -> RunState:
    """Create the bridge and guests of `spec`, wait until every guest is ready; return state."""
    run = RunState(run_id=run_id or new_run_id(), uri=spec.hosts[0].uri, spec=spec.model_dump(),
                   kind=spec.kind, launcher=spec.rank_launcher())
    run_dir = run.run_dir(state_dir)
    started = time.monotonic()
    stack = UndoStack()
    with undo_on_failure(stack):
        run_dir.mkdir(parents=True, exist_ok=False)
        stack.push(f"remove {run_dir}", lambda: shutil.rmtree(run_dir, ignore_errors=True))
        run.save(state_dir, "planned")
        builder = builder_for(spec, state_dir)
        accels = [accel.resolve(host.accel, state_dir, host.uri, builder.kernel, builder.initrd)
                  for host in spec.hosts]
        run.accel = accels[0]
        work = run_dir / "work"
        work.mkdir()
        run.work_dir = str(work)
        run.host_address, run.prefix = spec.network.host_ip(), spec.network.prefix()
        if spec.network.bridge:
            run.bridge = spec.network.bridge
            if spec.hosts[0].is_local() and not run.uri.startswith("test:") \
                    and not network.bridge_exists(run.bridge):
                raise network.NetworkError(f"network.bridge: no bridge {run.bridge} here")
        else:
            run.bridge, run.bridge_owned = bridge_name(run.run_id), True
            run.save(state_dir, "network")  # before it exists: a crash now leaves it named
            network.create_bridge(run.bridge, run.host_address, run.prefix)
            stack.push(f"delete bridge {run.bridge}", lambda: network.delete_bridge(run.bridge))
        run.save(state_dir, "network")
        builder.prepare(run, run_dir, stack)
        conns: dict[str, libvirt.virConnect] = {}
        host_of = spec.host_of_guest()
        for index, address in enumerate(spec.network.guest_ips(spec.guest_count())):
            host = spec.hosts[host_of[index]]
            if host.uri not in conns:
                conns[host.uri] = connect(host.uri)
                stack.push(f"close libvirt connection {host.uri}", conns[host.uri].close)
            conn = conns[host.uri]
            plan = guests.GuestPlan(index, domain_name(run.run_id, index), address, run.prefix,
                                    host.vcpus, host.memory_mib, run_dir / f"console-g{index}.log")
            built = builder.domain(plan, run, accels[host_of[index]], stack, conn, host.uri)
            run.guests.append(guest_state(plan, built, host.uri, accels[host_of[index]]))
            # The guest's files are named before its domain exists. The phase stays: the
            # service publishes the phases of `up` it sees, and the dashboard knows only those.
            run.save(state_dir)
            dom = guests.define(conn, built.domain)
            stack.push(f"undefine {plan.name}", _undo_domain(conn, plan.name))
            run.save(state_dir, "defined")
            dom.create()
            run.guests[-1].state = "started"
        run.timings["define_and_start_s"] = time.monotonic() - started
        run.save(state_dir, "started")
        ready = guests.wait_ready(
            conns[run.uri], run.guests, run.host_address,
            deadline_s - (time.monotonic() - started),
            conns={g.name: conns[run.uri_of(g)] for g in run.guests},
            ssh_key=Path(run.ssh_key) if run.launcher == "ssh" else None)
        for guest in run.guests:
            guest.state = "ready"
        run.timings["up_to_ready_s"] = time.monotonic() - started
        run.timings.update({key: round(t, 2) for key, t in ready.items()})
        run.pid = os.getpid()
        run.save(state_dir, "ready")
        for conn in conns.values():
            conn.close()
        stack.discard()  # the cluster now outlives this process, until `down`
    return run


def guest_state(plan: guests.GuestPlan, built: guests.GuestBuild, uri: str,
                accel_: str) -> GuestState:
    """Return the state of a guest about to be defined from `built`."""
    return GuestState(plan.name, plan.address, built.console or str(plan.console), plan.vcpus,
                      plan.memory_mib, uri=uri, accel=accel_, files=built.files,
                      remote=built.remote, volumes=built.volumes)


def _undo_domain(conn: libvirt.virConnect, name: str) -> object:
    def undo() -> None:
        guests.remove_domain(conn, name)
        guests.remove_qemu_log(name)
    return undo


def down(run: RunState, state_dir: Path) -> list[str]:
    """Remove everything `run` made; return the steps that failed (empty: all gone)."""
    stack = UndoStack()
    stack.push(f"remove {run.run_dir(state_dir)}",
               lambda: shutil.rmtree(run.run_dir(state_dir), ignore_errors=True))
    if run.bridge_owned and run.bridge:
        stack.push(f"delete bridge {run.bridge}", lambda: network.delete_bridge(run.bridge))
    for guest in run.guests:  # local overlays and seeds live in the run dir; named for clarity
        for path in guest.files:
            stack.push(f"remove {path}", lambda p=Path(path): p.unlink(missing_ok=True))
    for uri in run.uris():
        mine = [g for g in run.guests if run.uri_of(g) == uri]
        try:
            conn = connect(uri)
        except libvirt.libvirtError as exc:
            stack.failures.append(f"connect {uri} to remove {len(mine)} domain(s): "
                                  f"{exc.get_error_message()}")
            continue
        stack.push(f"close libvirt connection {uri}", conn.close)
        if uri in run.pools:  # after the domains (the stack runs newest first)
            name = run.pools[uri]
            stack.push(f"remove pool {name} on {volumes.host_of(uri)}",
                       lambda c=conn, n=name: volumes.remove_pool(c, n))
        for guest in mine:
            stack.push(f"remove domain {guest.name}", _undo_domain(conn, guest.name))
        # A crash between define and the state save can leave a tagged domain unlisted.
        for name, tag in guests.tagged_domains(conn).items():
            if tag.run_id == run.run_id and name not in {g.name for g in run.guests}:
                stack.push(f"remove domain {name}", _undo_domain(conn, name))
    return stack.unwind()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def run_is_gone(state_dir: Path, run_id: str) -> bool:
    """Return whether `run_id` is not live: no state, or a crash before it was ready."""
    try:
        run = RunState.load(state_dir, run_id)
    except (FileNotFoundError, ValueError, TypeError):
        return True
    return run.phase not in ("ready", "running") and not _pid_alive(run.pid)


def gc(state_dir: Path, uri: str) -> list[str]:
    """Remove the domains, pools, bridges and directories of runs that are gone; return them.

    Bridges are found through run states (saved before a bridge is made), never by name
    alone: another state directory's live run may use the same prefix.
    """
    removed: list[str] = []
    for run_id in list_runs(state_dir):
        if run_is_gone(state_dir, run_id):
            failures = down(RunState.load(state_dir, run_id), state_dir)
            removed.append(f"run {run_id}" + (f" ({len(failures)} failures)" if failures else ""))
    # Orphans (no state left) are looked for on `uri` and on every host a known run used.
    uris = [uri]
    for run_id in list_runs(state_dir):
        with contextlib.suppress(OSError, ValueError, TypeError):
            uris += [u for u in RunState.load(state_dir, run_id).uris() if u not in uris]
    for each in uris:
        conn = connect(each)
        try:
            for name, tag in guests.tagged_domains(conn).items():
                if run_is_gone(state_dir, tag.run_id):
                    guests.remove_domain(conn, name)
                    guests.remove_qemu_log(name)
                    removed.append(f"domain {name}")
            # Pools after domains: a running guest keeps its disks open.
            for name, run_id in volumes.tagged_pools(conn).items():
                if run_is_gone(state_dir, run_id):
                    volumes.remove_pool(conn, name)
                    removed.append(f"pool {name} on {each}")
        finally:
            conn.close()
    return removed
