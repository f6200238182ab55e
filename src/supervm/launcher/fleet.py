"""One guest at a time in a run that is up: add, remove, stop and start guests.

`cluster.up` makes a whole run at once; the service also grows, shrinks and drives the guests
of a run afterwards. Each operation saves the run's state when it is done, so `down` and
`gc` (another process) always see what exists.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import libvirt

from supervm.launcher import agent, cluster, guests, volumes
from supervm.launcher.spec import ClusterSpec
from supervm.launcher.state import GuestState, RunState, domain_name
from supervm.launcher.undo import UndoStack, undo_on_failure

#: Seconds a guest may take to power itself off before it is destroyed (default of stop).
STOP_DEADLINE_S = 20.0
#: What a graceful stop runs in a hostfs guest: flush, then power off through the kernel
#: (the guest has no init system, so `shutdown` and ACPI buttons do nothing there). Image
#: guests run systemd: the agent's own shutdown command stops them cleanly.
_POWEROFF = ["/bin/sh", "-c", "sync; exec /bin/busybox poweroff -f"]


class FleetError(RuntimeError):
    """A guest operation that cannot be done; the message says why."""


def find_guest(run: RunState, name: str) -> GuestState:
    """Return guest `name` of `run`; raise KeyError if the run has none of that name."""
    for guest in run.guests:
        if guest.name == name:
            return guest
    raise KeyError(name)


def _index(name: str) -> int:
    return int(name.rsplit("-g", 1)[1])


def _next_slots(run: RunState, count: int) -> list[tuple[int, str]]:
    """Return (index, address) for `count` new guests: the lowest free indices."""
    spec = ClusterSpec.model_validate(run.spec)
    used = {_index(g.name) for g in run.guests}
    taken = {g.address for g in run.guests}
    slots: list[tuple[int, str]] = []
    index = 0
    while len(slots) < count:
        if index not in used:
            addresses = spec.network.guest_ips(index + 1)
            if len(addresses) <= index:
                raise FleetError(f"network.addresses: run {run.run_id} has no address for "
                                 f"guest {index} (give more addresses in the spec)")
            if addresses[index] in taken or addresses[index] == run.host_address:
                raise FleetError(f"network: address {addresses[index]} is already used")
            slots.append((index, addresses[index]))
        index += 1
    return slots


def add_guests(run: RunState, state_dir: Path, count: int,
               deadline_s: float = 240.0) -> list[GuestState]:
    """Define and boot `count` more guests like the run's others; wait until they are ready.

    On failure the new guests are removed again and the run is as it was.
    """
    if run.phase not in ("ready", "running"):
        raise FleetError(f"run {run.run_id} is not ready (phase {run.phase})")
    spec = ClusterSpec.model_validate(run.spec)
    host = spec.hosts[0]  # new guests go to the run's first host, like its first guests
    run_dir = run.run_dir(state_dir)
    builder = cluster.builder_for(spec, state_dir)
    builder.resume(run, run_dir)
    started = time.monotonic()
    added: list[GuestState] = []
    stack = UndoStack()
    with undo_on_failure(stack):
        conn = cluster.connect(host.uri)
        stack.push("close libvirt connection", conn.close)
        for index, address in _next_slots(run, count):
            name = domain_name(run.run_id, index)
            plan = guests.GuestPlan(index, name, address, run.prefix, host.vcpus,
                                    host.memory_mib, run_dir / f"console-g{index}.log")
            built = builder.domain(plan, run, run.accel, stack, conn, host.uri)
            guest = cluster.guest_state(plan, built, host.uri, run.accel)
            run.guests.append(guest)
            added.append(guest)
            run.save(state_dir)  # its files are named before its domain exists
            dom = guests.define(conn, built.domain)
            stack.push(f"undefine {name}", _forget(run, state_dir, conn, name))
            dom.create()
            guest.state = "started"
        guests.wait_ready(conn, added, run.host_address,
                          deadline_s - (time.monotonic() - started), ssh_key=_ssh_key(run))
        for guest in added:
            guest.state = "ready"
        run.save(state_dir)
        conn.close()
        stack.discard()
    return added


def _ssh_key(run: RunState) -> Path | None:
    """Return the run's key when ranks log in over ssh (readiness then tries a login)."""
    return Path(run.ssh_key) if run.launcher == "ssh" and run.ssh_key else None


def _forget(run: RunState, state_dir: Path, conn: libvirt.virConnect, name: str) -> object:
    def undo() -> None:
        guests.remove_domain(conn, name)
        guests.remove_qemu_log(name)
        run.guests = [g for g in run.guests if g.name != name]
        run.save(state_dir)
    return undo


def remove_guest(run: RunState, state_dir: Path, name: str) -> list[str]:
    """Remove one guest (domain, its logs); the run's last guest takes the whole run down.

    Returns the steps that failed (empty: all gone).
    """
    guest = find_guest(run, name)
    if len(run.guests) == 1:
        return cluster.down(run, state_dir)
    stack = UndoStack()
    uri = run.uri_of(guest)
    try:
        conn = cluster.connect(uri)
    except libvirt.libvirtError as exc:
        return [f"connect {uri} to remove {name}: {exc.get_error_message()}"]
    stack.push("close libvirt connection", conn.close)
    if not guest.remote:  # a remote guest's console is one of its volumes
        stack.push(f"remove console of {name}",
                   lambda: Path(guest.console).unlink(missing_ok=True))
    for path in guest.files:  # an image guest's overlay and seed, once its domain is gone
        stack.push(f"remove {path}", lambda p=Path(path): p.unlink(missing_ok=True))
    for path in guest.volumes:  # a remote guest's overlay, seed and console on its host
        stack.push(f"delete volume {path} on {volumes.host_of(uri)}",
                   lambda p=path: conn.storageVolLookupByPath(p).delete(0))
    stack.push(f"remove domain {name}", lambda: (guests.remove_domain(conn, name),
                                                 guests.remove_qemu_log(name)))
    failures = stack.unwind()
    if not failures:
        run.guests = [g for g in run.guests if g.name != name]
        run.save(state_dir)
    return failures


def _domain(conn: libvirt.virConnect, name: str) -> libvirt.virDomain:
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        raise FleetError(f"guest {name} has no domain: {exc.get_error_message()}") from None


def stop_guest(run: RunState, state_dir: Path, name: str,
               deadline_s: float = STOP_DEADLINE_S) -> str:
    """Power a guest off (sync, then poweroff), destroy it after `deadline_s`; say how it ended."""
    guest = find_guest(run, name)
    conn = cluster.connect(run.uri_of(guest))
    try:
        dom = _domain(conn, name)
        how = "was not running"
        if dom.isActive():
            how = f"destroyed (no power-off within {deadline_s:g} s)"
            if agent.ping(dom, 2):
                with contextlib.suppress(agent.AgentError, libvirt.libvirtError):
                    if run.kind == "image":
                        dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT)
                    else:
                        agent.start(dom, _POWEROFF)
                end = time.monotonic() + deadline_s
                while time.monotonic() < end and dom.isActive():
                    time.sleep(0.2)
                if not dom.isActive():
                    how = "powered off"
            if dom.isActive():
                with contextlib.suppress(libvirt.libvirtError):  # it may stop right now
                    dom.destroy()
        guest.state = "stopped"
        run.save(state_dir)
        return how
    finally:
        conn.close()


def start_guest(run: RunState, state_dir: Path, name: str, deadline_s: float = 240.0) -> None:
    """Boot a stopped guest again and wait until it is ready (raise ReadinessError if not)."""
    guest = find_guest(run, name)
    conn = cluster.connect(run.uri_of(guest))
    try:
        dom = _domain(conn, name)
        if dom.isActive():
            raise FleetError(f"guest {name} is already running")
        # The console log keeps the last boot's ready marker: start from an empty one.
        if guest.remote:
            volumes.empty(conn, guest.console)
        else:
            with contextlib.suppress(OSError):
                Path(guest.console).write_bytes(b"")
        dom.create()
        guest.state = "started"
        run.save(state_dir)
        try:
            guests.wait_ready(conn, [guest], run.host_address, deadline_s,
                              ssh_key=_ssh_key(run))
        except guests.ReadinessError:
            guest.state = "failed"
            run.save(state_dir)
            raise
        guest.state = "ready"
        run.save(state_dir)
    finally:
        conn.close()

