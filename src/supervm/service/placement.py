"""Where the world's ranks run when guests take part: rank 0 on the host, the rest in guests.

Rank 0 stays on the host because it holds the Unix socket to the service. Each guest runs as
many ranks as it has vCPUs (a rank is single-threaded; more would only share a vCPU under
emulation). Guests see the host's root as it was at boot, so a job's files are handed over
through the run's work directory, a read-write share mounted at the same path in every
guest: inputs are staged there (a render's scene goes inline in the job, its meshes staged),
and the ranks write their outputs there; the service moves them to the task's own run
directory once the job is done.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervm.launcher import mpi
from supervm.launcher.state import RunState

#: The guests' network interface (hostfs guests configure eth0 in their stage-2 script).
GUEST_IFACE = "eth0"


@dataclass(frozen=True)
class GuestSlot:
    """One guest the world uses."""

    name: str
    address: str
    vcpus: int
    memory_mib: int
    uri: str = ""  # its hypervisor's libvirt URI where it is not the run's first host's


@dataclass(frozen=True)
class Placement:
    """The guests of one launcher run that host ranks, and how to reach them."""

    run_id: str
    uri: str
    run_dir: Path
    work_dir: Path
    host_address: str
    bridge: str
    guests: tuple[GuestSlot, ...]

    @classmethod
    def of(cls, run: RunState, state_dir: Path, names: list[str] | None = None) -> Placement:
        """Return the placement on the ready guests of `run` (or those named)."""
        chosen = [g for g in run.guests if (g.name in names if names is not None
                                            else g.state == "ready")]
        return cls(run.run_id, run.uri, run.run_dir(state_dir), Path(run.work_dir),
                   run.host_address, run.bridge,
                   tuple(GuestSlot(g.name, g.address, g.vcpus, g.memory_mib, g.uri)
                         for g in chosen))

    @property
    def ranks(self) -> int:
        """Return the world size: rank 0 on the host and one rank per guest vCPU."""
        return 1 + sum(g.vcpus for g in self.guests)

    def command(self, mpiexec: str, program: list[str]) -> tuple[list[str], dict[str, str]]:
        """Return the mpiexec line (and extra environment) that starts `program` as the world.

        Two sections: rank 0 on the host's bridge address, then the guests' ranks; each pins
        MPI's TCP traffic to the cluster's interface (the host has others guests cannot reach).
        """
        hostfile = self.run_dir / "world-hostfile"
        hostfile.write_text(f"{self.host_address}:1\n" + "".join(
            f"{g.address}:{g.vcpus}\n" for g in self.guests))
        agent, mapping = mpi.write_agent(self.run_dir, self.uri,
                                         {g.address: g.name for g in self.guests},
                                         {g.address: g.uri for g in self.guests if g.uri},
                                         local=(self.host_address,))

        def pinned(iface: str) -> list[str]:
            return ["-env", "FI_TCP_IFACE", iface, "-env", "FI_SOCKETS_IFACE", iface]

        argv = [mpiexec, "-f", str(hostfile), "-launcher", "ssh", "-launcher-exec", str(agent),
                "-localhost", self.host_address,
                "-n", "1", *pinned(self.bridge), *program, ":",
                "-n", str(self.ranks - 1), *pinned(GUEST_IFACE), *program]
        return argv, {mpi.HOSTS_ENV: str(mapping)}

    def task_dir(self, task_id: str) -> Path:
        """Return where the ranks write a task's outputs (inside the shared work directory)."""
        return self.work_dir / "tasks" / task_id

    def stage(self, spec: dict[str, Any], task_id: str) -> dict[str, Any]:
        """Return `spec` with its input files copied where every guest can read them."""
        staged = self.task_dir(task_id) / "inputs"
        spec = dict(spec)
        source = spec.get("input")
        if isinstance(source, dict) and "npy" in source:
            spec["input"] = {**source, "npy": str(_copy(Path(source["npy"]), staged))}
        if spec.get("gather"):
            # One gathered file is filled through a shared writable map, which the guests'
            # 9p share refuses (EINVAL); each rank writes its block, and the result download
            # joins them once.
            spec["gather"] = False
        if spec.get("kind") == "render":
            spec["scene"] = _inline_scene(spec, staged)
        return spec

    def describe(self) -> dict[str, Any]:
        """Return the placement as the status endpoint shows it."""
        return {"run": self.run_id, "host_address": self.host_address,
                "guests": [{"name": g.name, "address": g.address, "ranks": g.vcpus}
                           for g in self.guests]}


def _copy(path: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    target = into / f"{len(list(into.iterdir()))}-{path.name}"
    shutil.copyfile(path, target)
    return target


def _inline_scene(spec: dict[str, Any], staged: Path) -> Any:
    """Return the render job's scene inline, its mesh files staged (the host reads them)."""
    from supervm.jobs.validation import check_scene, parse_job

    base = Path(spec["scene"]).parent if isinstance(spec.get("scene"), str) else Path()
    scene = check_scene(parse_job(spec)).model_dump(mode="json")
    for obj in scene.get("objects", []):
        if isinstance(obj, dict) and obj.get("file"):
            obj["file"] = str(_copy(base / obj["file"], staged))
    return scene


def collect(placement_dir: Path, run_dir: Path) -> None:
    """Move a job's outputs from the shared work directory to the task's run directory."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if placement_dir.is_dir():
        for item in placement_dir.iterdir():
            if item.name != "inputs":
                shutil.move(str(item), str(run_dir / item.name))
        shutil.rmtree(placement_dir, ignore_errors=True)
