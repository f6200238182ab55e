"""Define, start and wait for guests; tear them down by name or by run tag."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

from supervm.launcher import agent, volumes
from supervm.launcher.domain_xml import (
    AgentChannel,
    BridgeInterface,
    Domain,
    FileSerial,
    Filesystem,
    KernelBoot,
    NoBalloon,
    RunTag,
    mac_address,
    read_tag,
)
from supervm.launcher.initramfs import READY_MARKER
from supervm.launcher.state import GuestState

#: libvirt's per-domain QEMU log, which outlives the domain unless removed.
QEMU_LOG_DIR = Path("/var/log/libvirt/qemu")

#: Readiness stages in order; a timeout names the one a guest was stuck in.
STAGES = ("domain running", "console marker", "agent ping", "MPI reachable")

#: The stage the ssh launcher adds: a real login with the run's key.
SSH_STAGE = "ssh login"


class ReadinessError(RuntimeError):
    """A guest missed the readiness deadline; the message names the stage and the console."""


@dataclass(frozen=True)
class GuestPlan:
    """What one guest is made from."""

    index: int
    name: str
    address: str
    prefix: int
    vcpus: int
    memory_mib: int
    console: Path


@dataclass(frozen=True)
class GuestBuild:
    """What a builder made for one guest: its domain, and what to record in its state."""

    domain: Domain
    files: list[str] = field(default_factory=list)  # on this machine
    volumes: list[str] = field(default_factory=list)  # on the guest's host (remote guests)
    console: str | None = None  # where its console is, when not the plan's local file

    @property
    def remote(self) -> bool:
        """Return whether the guest's disks are volumes on its (remote) host."""
        return bool(self.volumes)


def domain_for(plan: GuestPlan, run_id: str, accel: str, kernel: str, initrd: str,
               bridge: str, work_dir: str) -> Domain:
    """Return the typed definition of a hostfs guest."""
    cmdline = (f"console=ttyS0 quiet panic=-1 rdinit=/init svm.hostname={plan.name} "
               f"svm.ip={plan.address}/{plan.prefix} svm.work={work_dir}")
    return Domain(
        name=plan.name, memory_mib=plan.memory_mib, vcpus=plan.vcpus,
        accel="kvm" if accel == "kvm" else "tcg",
        boot=KernelBoot(kernel, initrd, cmdline), tag=RunTag(run_id, plan.index),
        devices=[
            Filesystem("/", "hostroot", readonly=True),
            Filesystem(work_dir, "work"),
            BridgeInterface(bridge, mac_address(run_id, plan.index)),
            FileSerial(str(plan.console)),
            AgentChannel(),
            NoBalloon(),
        ],
    )


def define(conn: libvirt.virConnect, domain: Domain) -> libvirt.virDomain:
    """Define `domain` with libvirt's schema validation (unknown elements are errors)."""
    return conn.defineXMLFlags(domain.xml(), libvirt.VIR_DOMAIN_DEFINE_VALIDATE)


def console_tail(path: Path, lines: int = 15) -> str:
    """Return the last lines of a console log (empty if there is none yet)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no console output)"
    return "\n".join(text.splitlines()[-lines:]) or "(no console output)"


def read_console(conn: libvirt.virConnect, guest: GuestState) -> str:
    """Return a guest's console log so far: the local file, or its volume on a remote host."""
    if not guest.remote:
        try:
            return Path(guest.console).read_text(errors="replace")
        except OSError:
            return ""
    try:
        return volumes.read_file(conn, guest.console).decode(errors="replace")
    except libvirt.libvirtError:
        return ""


def guest_console_tail(conn: libvirt.virConnect, guest: GuestState, lines: int = 15) -> str:
    """Return the last lines of a guest's console, wherever it is."""
    if not guest.remote:
        return console_tail(Path(guest.console), lines)
    text = read_console(conn, guest)
    return "\n".join(text.splitlines()[-lines:]) or "(no console output)"


def _lookup(conn: libvirt.virConnect, name: str) -> libvirt.virDomain | None:
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError:
        return None


def remove_domain(conn: libvirt.virConnect, name: str) -> bool:
    """Destroy (if running) and undefine domain `name`; return whether it existed."""
    dom = _lookup(conn, name)
    if dom is None:
        return False
    if dom.isActive():
        dom.destroy()
    dom.undefine()
    return True


def remove_qemu_log(name: str) -> None:
    """Remove libvirt's QEMU log of domain `name` (libvirt keeps it after undefine)."""
    (QEMU_LOG_DIR / f"{name}.log").unlink(missing_ok=True)


def tagged_domains(conn: libvirt.virConnect) -> dict[str, RunTag]:
    """Return every domain that carries a run tag, by name."""
    found = {}
    for dom in conn.listAllDomains():
        tag = read_tag(dom.XMLDesc(0))
        if tag is not None:
            found[dom.name()] = tag
    return found


def _mpi_probe_argv(host_ip: str, port: int) -> list[str]:
    # bash's /dev/tcp: a TCP connect to the host, as hydra's proxies make, without paying
    # for a Python start-up under emulation.
    return ["/bin/bash", "-c", f"exec 3<>/dev/tcp/{host_ip}/{port}"]


def wait_ready(conn: libvirt.virConnect, guests: list[GuestState], host_ip: str,
               deadline_s: float, *, conns: dict[str, libvirt.virConnect] | None = None,
               ssh_key: Path | None = None) -> dict[str, float]:
    """Walk every guest through STAGES under one deadline; return seconds to each stage.

    The keys are `GUEST:STAGE` (seconds since the wait began when GUEST passed STAGE).
    `conns` maps guest names to their host's connection (default: `conn` for all); with
    `ssh_key` a last stage logs in over ssh with it.

    Raises ReadinessError naming the guest, the stage it stalled in and its console tail.
    """
    stages = (*STAGES, SSH_STAGE) if ssh_key is not None else STAGES
    logins: dict[str, subprocess.Popen[bytes]] = {}
    try:
        return _wait(conn, guests, host_ip, deadline_s, conns or {}, stages, ssh_key, logins)
    finally:
        for login in logins.values():
            if login.poll() is None:
                login.kill()
                login.wait()


def _wait(conn: libvirt.virConnect, guests: list[GuestState], host_ip: str, deadline_s: float,
          conns: dict[str, libvirt.virConnect], stages: tuple[str, ...],
          ssh_key: Path | None, logins: dict[str, subprocess.Popen[bytes]]) -> dict[str, float]:
    start = time.monotonic()
    end = start + deadline_s
    stage = {g.name: 0 for g in guests}
    ready_at: dict[str, float] = {}
    passed: dict[str, float] = {}
    listener = socket.create_server((host_ip, 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    pending: dict[str, int] = {}  # guest -> pid of its running MPI probe
    try:
        while len(ready_at) < len(guests):
            if time.monotonic() > end:
                late = next(g for g in guests if g.name not in ready_at)
                tail = guest_console_tail(conns.get(late.name, conn), late)
                raise ReadinessError(
                    f"guest {late.name} ({late.address}) not ready after {deadline_s:g} s: "
                    f"stalled at stage '{stages[stage[late.name]]}'; console tail "
                    f"({late.console}):\n{tail}")
            for guest in guests:
                if guest.name in ready_at:
                    continue
                before = stage[guest.name]
                _advance(conns.get(guest.name, conn), guest, stage, pending, host_ip, port,
                         stages, ssh_key, logins)
                for index in range(before, stage[guest.name]):
                    passed[f"{guest.name}:{stages[index]}"] = time.monotonic() - start
                if stage[guest.name] == len(stages):
                    ready_at[guest.name] = time.monotonic() - start
            with contextlib.suppress(OSError):  # accept the probes' calls so they finish
                listener.accept()[0].close()
        return passed
    finally:
        listener.close()


def _advance(conn: libvirt.virConnect, guest: GuestState, stage: dict[str, int],
             pending: dict[str, int], host_ip: str, port: int,
             stages: tuple[str, ...] = STAGES, ssh_key: Path | None = None,
             logins: dict[str, subprocess.Popen[bytes]] | None = None) -> None:
    """Move one guest through as many stages as it has passed now (never blocks long)."""
    dom = _lookup(conn, guest.name)
    # Guests are started before the wait: one that is not active has stopped (crashed,
    # powered off, destroyed), and waiting on would only spend the deadline.
    if dom is None or not dom.isActive():
        raise ReadinessError(f"guest {guest.name} ({guest.address}) stopped while booting; "
                             f"console tail:\n{guest_console_tail(conn, guest)}")
    while stage[guest.name] < len(stages):
        current = stages[stage[guest.name]]
        if current == "domain running":
            done = dom.isActive() == 1
        elif current == "console marker":
            done = _console_ready(conn, guest)
        elif current == "agent ping":
            done = agent.ping(dom, 1)
        elif current == SSH_STAGE:
            assert ssh_key is not None and logins is not None
            done = _probe_ssh(guest, ssh_key, logins)
        else:
            done = _probe_mpi(dom, guest.name, pending, host_ip, port)
        if not done:
            return
        stage[guest.name] += 1


def _probe_mpi(dom: libvirt.virDomain, name: str, pending: dict[str, int], host_ip: str,
               port: int) -> bool:
    """Return whether the guest connected to the host's TCP port (how hydra proxies call)."""
    if name not in pending:
        pending[name] = agent.start(dom, _mpi_probe_argv(host_ip, port))
        return False
    reply = agent.status(dom, pending[name])
    if reply is None:
        return False
    del pending[name]
    return agent.result_of(reply).exitcode == 0


#: When each remote guest's console was last read (monotonic seconds).
_last_console_read: dict[str, float] = {}
#: Seconds between two reads of a remote guest's console (each one is a libvirt download).
_REMOTE_CONSOLE_EVERY_S = 2.0


def _console_ready(conn: libvirt.virConnect, guest: GuestState) -> bool:
    """Return whether the guest's console shows the ready marker."""
    if guest.remote:
        if time.monotonic() - _last_console_read.get(guest.name, 0.0) < _REMOTE_CONSOLE_EVERY_S:
            return False
        _last_console_read[guest.name] = time.monotonic()
    return READY_MARKER in read_console(conn, guest)


#: When each guest's last ssh login attempt started (monotonic seconds).
_last_ssh_try: dict[str, float] = {}


def _probe_ssh(guest: GuestState, key: Path, logins: dict[str, subprocess.Popen[bytes]]) -> bool:
    """Return whether an ssh login to the guest ran `true` (one attempt in flight at a time)."""
    from supervm.launcher.ssh import ssh_argv

    login = logins.get(guest.name)
    if login is None:
        # A refused connection (sshd not up yet) fails at once: at most one try a second.
        if time.monotonic() - _last_ssh_try.get(guest.name, 0.0) < 1.0:
            return False
        _last_ssh_try[guest.name] = time.monotonic()
        logins[guest.name] = subprocess.Popen(
            [*ssh_argv(key), guest.address, "true"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return False
    if login.poll() is None:
        return False
    del logins[guest.name]
    return login.returncode == 0
