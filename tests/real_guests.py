"""Helpers for the tests that boot real guests: libvirtd for the test, the CLI, leftovers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from supervm.launcher import daemon

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


def processes_of(run_id: str) -> list[str]:
    """Return the command lines that mention the run: QEMU, mpiexec, its launcher agents."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, timeout=30)
    return [line for line in out.stdout.splitlines()
            if f"svm-{run_id}-" in line or f"runs/{run_id}/" in line]
