"""Run state as JSON under the state directory, saved after each phase so `down`/`gc` work."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Where runs keep their state, work directories, consoles and the initramfs cache.
DEFAULT_STATE_DIR = Path(os.environ.get("SUPERVM_LAUNCH_STATE", "/var/lib/supervm-launch"))

#: Prefix of every domain and bridge a run makes: `svm-<run id>-g<i>`, `svb<run id>`.
DOMAIN_PREFIX = "svm-"
BRIDGE_PREFIX = "svb"


def new_run_id() -> str:
    """Return a fresh 8-hex-digit run id (short: bridge names have 15 characters)."""
    return secrets.token_hex(4)


def domain_name(run_id: str, index: int) -> str:
    """Return the tagged name of guest `index` of run `run_id`."""
    return f"{DOMAIN_PREFIX}{run_id}-g{index}"


def bridge_name(run_id: str) -> str:
    """Return the tagged name of the bridge run `run_id` makes."""
    return f"{BRIDGE_PREFIX}{run_id}"


@dataclass
class GuestState:
    """One guest as the run made it."""

    name: str
    address: str
    console: str
    vcpus: int
    memory_mib: int
    state: str = "defined"
    uri: str = ""  # the guest's hypervisor; "" in states older than several hosts: run.uri
    accel: str = ""
    files: list[str] = field(default_factory=list)  # the image kind's overlay and seed
    # A guest on a remote host: its disks and console are `volumes` of the run's pool there
    # (paths on that host; `console` is one of them) and job files reach it over ssh.
    remote: bool = False
    volumes: list[str] = field(default_factory=list)


@dataclass
class RunState:
    """Everything a run made, so that another process can undo it."""

    run_id: str
    uri: str
    spec: dict[str, object]
    phase: str = "new"
    kind: str = "hostfs"
    launcher: str = "agent"
    ssh_key: str = ""  # the run's private key (ssh launcher), inside the run directory
    accel: str = ""
    bridge: str = ""
    bridge_owned: bool = False
    host_address: str = ""
    prefix: int = 24
    work_dir: str = ""
    files: list[str] = field(default_factory=list)
    guests: list[GuestState] = field(default_factory=list)
    pools: dict[str, str] = field(default_factory=dict)  # host URI -> the run's pool there
    pid: int = field(default_factory=os.getpid)
    timings: dict[str, float] = field(default_factory=dict)

    def uri_of(self, guest: GuestState) -> str:
        """Return the libvirt URI of `guest`'s hypervisor."""
        return guest.uri or self.uri

    def uris(self) -> list[str]:
        """Return every hypervisor URI of the run, first host first."""
        found = [self.uri]
        for uri in [*(self.uri_of(g) for g in self.guests), *self.pools]:
            if uri not in found:
                found.append(uri)
        return found

    def run_dir(self, state_dir: Path) -> Path:
        """Return this run's directory under `state_dir`."""
        return state_dir / "runs" / self.run_id

    def save(self, state_dir: Path, phase: str | None = None) -> None:
        """Write the state atomically (a crash leaves the old or the new file, never half)."""
        if phase is not None:
            self.phase = phase
        path = self.run_dir(state_dir) / "state.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

    @classmethod
    def load(cls, state_dir: Path, run_id: str) -> RunState:
        """Read the state of `run_id`; raise FileNotFoundError when there is none."""
        data = json.loads((state_dir / "runs" / run_id / "state.json").read_text())
        data["guests"] = [GuestState(**g) for g in data.get("guests", [])]
        return cls(**data)


def list_runs(state_dir: Path) -> list[str]:
    """Return the ids of the runs with a saved state, oldest first."""
    root = state_dir / "runs"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if (p / "state.json").is_file()]
    return [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime)]
