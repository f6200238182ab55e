"""The cluster bridge: a plain Linux bridge with the host's address (no NAT, no dnsmasq)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from supervm.launcher.state import BRIDGE_PREFIX

_IP_TIMEOUT_S = 10.0


class NetworkError(RuntimeError):
    """An `ip` command failed or stalled."""


def _ip(*args: str) -> str:
    try:
        done = subprocess.run(["ip", *args], capture_output=True, text=True,
                              timeout=_IP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise NetworkError(f"ip {' '.join(args)}: no answer in {_IP_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def bridge_exists(name: str) -> bool:
    """Return whether interface `name` exists."""
    return Path("/sys/class/net", name).exists()


def create_bridge(name: str, address: str, prefix: int) -> None:
    """Create bridge `name` with the host's `address/prefix` and bring it up."""
    _ip("link", "add", name, "type", "bridge")
    try:
        _ip("addr", "add", f"{address}/{prefix}", "dev", name)
        _ip("link", "set", name, "up")
    except NetworkError:
        delete_bridge(name)
        raise


def delete_bridge(name: str) -> None:
    """Remove bridge `name` if it exists."""
    if bridge_exists(name):
        _ip("link", "del", name)


def tagged_bridges() -> list[str]:
    """Return the bridges whose names carry the run prefix."""
    root = Path("/sys/class/net")
    return sorted(p.name for p in root.iterdir()
                  if p.name.startswith(BRIDGE_PREFIX) and (p / "bridge").is_dir())
