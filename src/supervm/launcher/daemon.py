"""Run virtlogd and libvirtd as child processes (no systemd here) and stop them by pid."""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SOCKET = Path("/run/libvirt/libvirt-sock")
QEMU_CONF = Path("/etc/libvirt/qemu.conf")

# Guests run as root without a security driver: the hostfs kind shares the host's root
# read-only, and there is no AppArmor/SELinux policy to confine it with here.
_CONF_SETTINGS = {"user": '"root"', "group": '"root"', "security_driver": '"none"'}


class DaemonError(RuntimeError):
    """The daemon did not come up in time, or is missing."""


def prepare_system() -> None:
    """Make what libvirtd needs without systemd: the qemu user, log dir, qemu.conf."""
    try:
        grp.getgrnam("libvirt-qemu")
    except KeyError:
        subprocess.run(["groupadd", "--system", "libvirt-qemu"], check=True, timeout=30)
    try:
        pwd.getpwnam("libvirt-qemu")
    except KeyError:
        subprocess.run(["useradd", "--system", "-g", "libvirt-qemu", "-M", "-s",
                        "/usr/sbin/nologin", "libvirt-qemu"], check=True, timeout=30)
    Path("/var/log/libvirt/qemu").mkdir(parents=True, exist_ok=True)
    text = QEMU_CONF.read_text() if QEMU_CONF.is_file() else ""
    missing = {k: v for k, v in _CONF_SETTINGS.items()
               if not re.search(rf"^\s*{k}\s*=\s*{re.escape(v)}", text, re.M)}
    if missing:
        QEMU_CONF.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(f"{k} = {v}\n" for k, v in missing.items())
        QEMU_CONF.write_text(text + "\n# added by supervm-launch\n" + lines)


@dataclass
class Daemons:
    """virtlogd and libvirtd started by us; `stop` ends exactly these two pids."""

    virtlogd: subprocess.Popen[bytes]
    libvirtd: subprocess.Popen[bytes]

    def stop(self, grace: float = 10.0) -> None:
        """Terminate libvirtd then virtlogd; kill whichever outlives `grace` seconds."""
        for process in (self.libvirtd, self.virtlogd):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=grace)


def socket_ready() -> bool:
    """Return whether some libvirtd answers on the system socket."""
    import socket

    if not SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(SOCKET))
            return True
        except OSError:
            return False


def start(deadline_s: float = 60.0, log_dir: Path | None = None) -> Daemons:
    """Start virtlogd and libvirtd in the foreground; wait for the socket by a deadline."""
    for binary in ("/usr/sbin/libvirtd", "/usr/sbin/virtlogd"):
        if not os.access(binary, os.X_OK):
            raise DaemonError(f"{binary} missing (scripts/system-packages.sh installs it)")
    if socket_ready():
        raise DaemonError(f"a libvirtd already answers on {SOCKET}; use it or stop it first")
    prepare_system()
    log = log_dir / "libvirtd.log" if log_dir else Path(os.devnull)
    with open(log, "ab") as out:  # the children keep their own copies of the descriptor
        # Not `-d`: a daemonised process is reparented to PID 1, which does not reap here.
        virtlogd = subprocess.Popen(["/usr/sbin/virtlogd"], stdout=out, stderr=out,
                                    start_new_session=True)
        libvirtd = subprocess.Popen(["/usr/sbin/libvirtd"], stdout=out, stderr=out,
                                    start_new_session=True)
    daemons = Daemons(virtlogd, libvirtd)
    end = time.monotonic() + deadline_s
    while not socket_ready():
        if libvirtd.poll() is not None or time.monotonic() > end:
            daemons.stop()
            why = "exited" if libvirtd.returncode is not None else \
                f"no socket after {deadline_s:g} s"
            raise DaemonError(f"libvirtd did not start: {why}")
        time.sleep(0.1)
    return daemons
