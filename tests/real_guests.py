"""Helpers for the tests that boot real guests: libvirtd for the test, the test image, an
sshd on loopback that plays a remote host, the CLI, leftovers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from supervm.launcher import daemon

REPO = Path(__file__).parents[1]

#: What a hostfs guest needs on this machine (scripts/system-packages.sh installs it).
HOSTFS_TOOLS = ("/usr/sbin/libvirtd", "/usr/bin/qemu-system-x86_64", "/bin/busybox",
                "/usr/sbin/qemu-ga")


def why_guests_cannot_boot(tools: Iterable[str] = HOSTFS_TOOLS) -> str | None:
    """Return why real guests cannot boot here (not root, a tool missing), or None."""
    if os.geteuid() != 0:
        return "needs root (bridges, libvirtd)"
    for path in tools:
        if not os.path.exists(path):
            return f"{path} missing: run scripts/system-packages.sh"
    return None


def why_image_guests_cannot_boot(tools: Iterable[str]) -> str | None:
    """Return why image guests cannot boot here (as above, or no host initrd), or None."""
    missing = why_guests_cannot_boot(tools)
    if missing:
        return missing
    if not list(Path("/boot").glob("initrd.img-*")):
        return "no /boot/initrd.img-*: image guests boot the host's kernel with its initrd"
    return None


@contextmanager
def libvirtd_running(log_dir: Path) -> Iterator[daemon.Daemons | None]:
    """Use the libvirtd that answers, else start libvirtd and virtlogd and stop both by pid."""
    if daemon.socket_ready():
        yield None
        return
    log_dir.mkdir(parents=True, exist_ok=True)
    started = daemon.start(log_dir=log_dir)
    try:
        yield started
    finally:
        started.stop()
        assert started.libvirtd.poll() is not None and started.virtlogd.poll() is not None


def launch(state: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run `supervm-launch --state-dir STATE args...` with a deadline."""
    command = [sys.executable, "-m", "supervm.launcher", "--state-dir", str(state), *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(command)} still running after {timeout} s: {exc.stderr!r}")


def assert_sorted_by_ranks(done: subprocess.CompletedProcess[str], data: np.ndarray,
                           ranks: int) -> Path:
    """Check a sort job's blocks, rank by rank, make np.sort(data); return its output folder."""
    out = Path(done.stderr.split("job results in ")[-1].split()[0])
    manifest = json.loads((out / "sorted.manifest.json").read_text())
    assert [b["rank"] for b in manifest["blocks"]] == list(range(ranks))
    got = np.concatenate([np.load(out / b["file"]) for b in manifest["blocks"]])
    np.testing.assert_array_equal(got, np.sort(data))
    return out


def processes_of(run_id: str) -> list[str]:
    """Return the command lines that mention the run: QEMU, mpiexec, its launcher agents."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, timeout=30)
    return [line for line in out.stdout.splitlines()
            if f"svm-{run_id}-" in line or f"runs/{run_id}/" in line]


def build_test_image() -> Path:
    """Return the test cloud image: built once by scripts/build-test-image.sh, then cached."""
    started = time.monotonic()
    done = subprocess.run(["bash", str(REPO / "scripts" / "build-test-image.sh")],
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    path = Path(done.stdout.strip().splitlines()[-1])
    print(f"test image {path}: {time.monotonic() - started:.1f} s (cached if ~0)")
    return path


@dataclass(frozen=True)
class LoopbackHost:
    """This machine as a remote hypervisor host: an sshd on 127.0.0.1 and a libvirt URI."""

    uri: str
    port: int
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)


@contextmanager
def loopback_sshd(tmp: Path, deadline_s: float = 20.0) -> Iterator[LoopbackHost]:
    """Run an sshd of our own on 127.0.0.1 (temp keys, root by key only); stop it by pid.

    The URI reaches this machine's libvirtd as a remote one: libvirt runs ssh with the temp
    client key (`keyfile`), through a wrapper that records no host key (`command`; its
    `no_verify` alone would write root's known_hosts), and `virt-ssh-helper` on the far side.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    _keygen(tmp / "host_key")
    _keygen(tmp / "client_key")
    authorized = tmp / "authorized_keys"
    authorized.write_text((tmp / "client_key.pub").read_text())
    authorized.chmod(0o600)
    port = _free_port()
    config = tmp / "sshd_config"
    config.write_text(f"""ListenAddress 127.0.0.1
Port {port}
HostKey {tmp / "host_key"}
AuthorizedKeysFile {authorized}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
""")
    wrapper = tmp / "ssh"
    wrapper.write_text("#!/bin/sh\nexec ssh -o UserKnownHostsFile=/dev/null "
                       "-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \"$@\"\n")
    wrapper.chmod(0o755)
    privsep = Path("/run/sshd")  # sshd insists on its privilege separation directory
    made_privsep = not privsep.exists()
    privsep.mkdir(mode=0o755, exist_ok=True)
    log = open(tmp / "sshd.log", "wb")  # noqa: SIM115 - sshd writes it until it stops
    process = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
                               stdout=log, stderr=log)
    try:
        end = time.monotonic() + deadline_s
        while b"Server listening" not in (tmp / "sshd.log").read_bytes():
            if process.poll() is not None or time.monotonic() > end:
                pytest.fail(f"sshd did not start: {(tmp / 'sshd.log').read_text()}")
            time.sleep(0.1)
        uri = (f"qemu+ssh://root@127.0.0.1:{port}/system?keyfile={tmp / 'client_key'}"
               f"&no_verify=1&no_tty=1&command={wrapper}")
        yield LoopbackHost(uri, port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        if made_privsep:
            privsep.rmdir()
