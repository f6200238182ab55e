"""Request and response bodies of the HTTP API (pydantic), and the seed body mapping."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Operation = Literal["sort", "argsort", "sum", "min", "max", "mean", "var", "histogram"]
TaskState = Literal["queued", "running", "done", "failed", "cancelled"]


class ProcessParameters(BaseModel):
    """Options of a seed-style process request; cpu and memory are recorded hints."""

    model_config = ConfigDict(extra="forbid")

    cpu: int | None = Field(None, ge=1, description="the seed's CPU hint: recorded with the "
                            "task, not enforced (every job runs on all the world's ranks)")
    memory: int | None = Field(None, ge=1, description="the seed's memory hint in MiB: "
                               "recorded with the task, not enforced")
    dtype: Literal["int32", "int64", "uint32", "uint64", "float32", "float64"] | None = Field(
        None, description="element type of inputData (default: int64 for integers, else "
        "float64)")
    bins: int | None = Field(None, gt=0, description="histogram: number of bins (10)")
    range: tuple[float, float] | None = Field(None, description="histogram: [low, high]")
    ddof: float | None = Field(None, description="var: delta degrees of freedom (0)")
    threads: int | None = Field(None, ge=1, description="kernel threads per rank (1)")

    @field_validator("ddof")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("ddof must be finite")
        return value


class SeedProcessRequest(BaseModel):
    """The older system's process body: inline numbers, an operation, parameters."""

    model_config = ConfigDict(extra="forbid")

    inputData: list[int | float] = Field(description="the data")  # noqa: N815 (seed's name)
    operation: Operation = Field(description="what to compute")
    parameters: ProcessParameters = Field(default_factory=ProcessParameters)


class RenderOptions(BaseModel):
    """The older system's render options."""

    model_config = ConfigDict(extra="allow")

    quality: str | None = Field(None, description="e.g. low, medium, high")
    resolution: str | None = Field(None, description="WIDTHxHEIGHT, e.g. 1920x1080")


class SeedRenderRequest(BaseModel):
    """The older system's render body (validated in full by the render job model)."""

    model_config = ConfigDict(extra="forbid")

    sceneFile: str = Field(description="the scene to render")  # noqa: N815
    frameStart: int = Field(1, description="first frame")  # noqa: N815
    frameEnd: int = Field(1, description="last frame (inclusive)")  # noqa: N815
    options: RenderOptions = Field(default_factory=RenderOptions)


class Submitted(BaseModel):
    """The answer to a submission (202)."""

    id: str = Field(description="the task id")
    kind: str = Field(description="the job kind")
    state: TaskState
    location: str = Field(description="URL path of the task")


class TaskInfo(BaseModel):
    """One task as the API shows it."""

    id: str
    kind: str
    state: TaskState
    spec: dict[str, Any] = Field(description="the job spec as run (the job model)")
    hints: dict[str, Any] | None = Field(None, description="recorded seed hints (cpu, memory)")
    created_at: float = Field(description="Unix time of submission")
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = Field(None, description="seconds the job ran in the world")
    error: str | None = None
    result: Any = Field(None, description="a reduction's value (small results only)")
    result_url: str | None = Field(None, description="where the full result is, when done")
    transitions: list[dict[str, Any]] | None = Field(
        None, description="state changes with times (single-task view only)")
    ranks: int | None = Field(None, description="ranks the job ran on (single-task view only)")
    wall_seconds: float | None = Field(
        None, description="the run's wall time in the world (single-task view only)")
    phases: dict[str, list[float]] | None = Field(
        None, description="seconds per phase, one value per rank (single-task view only)")


class TaskPage(BaseModel):
    """A page of tasks, newest first."""

    tasks: list[TaskInfo]
    total: int
    offset: int
    limit: int


class ErrorItem(BaseModel):
    """One problem with a request."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer: a message, and for invalid input one item per field."""

    error: str
    detail: list[ErrorItem] | None = None


class Health(BaseModel):
    """The health check."""

    status: Literal["ok", "degraded"]
    world: str = Field(description="the world's state")
    time: float


class Status(BaseModel):
    """The Super VM's status."""

    world: dict[str, Any] = Field(description="state, ranks, size, pid, restarts, ...")
    queue_length: int
    running: str | None = Field(description="id of the running task")
    uptime_s: float
    version: str


class Node(BaseModel):
    """A host the world's ranks run on, or a launcher guest (with the ranks on it, if any)."""

    id: str = Field(description="the host name (MPI processor name); a guest's domain name")
    kind: Literal["host", "guest"] = "host"
    ranks: list[int]
    pids: list[int]
    cpus: int
    memory: dict[str, Any] | None = Field(None, description="total/available bytes (the "
                                          "service's own host; a guest's total)")
    address: str | None = Field(None, description="a guest's address on its run's bridge")
    state: str | None = Field(None, description="a guest's libvirt state")
    vcpus: int | None = None
    memory_mib: int | None = None
    run: str | None = Field(None, description="a guest's launcher run")


class NodeList(BaseModel):
    """Every node of the world."""

    nodes: list[Node]


class Vm(BaseModel):
    """A guest `supervm-launch` made (see the launcher's section of the README)."""

    id: str = Field(description="the libvirt domain name, svm-RUNID-gN")
    run: str = Field(description="the launcher run that made it")
    address: str = Field(description="its address on the run's bridge")
    vcpus: int
    memory_mib: int
    accel: str = Field(description="kvm or tcg")
    phase: str = Field(description="the run's saved phase (ready once every guest is)")
    state: str = Field(description="libvirt's view: running, shut off, missing or unknown")
    name: str | None = Field(None, description="the same as id")
    guest_state: str | None = Field(
        None, description="the launcher's last word on it: defined, started, ready, stopped")
    host: str | None = Field(None, description="the libvirt URI of its hypervisor")
    busy: str | None = Field(None, description="what is being done to it (being created, "
                                               "stopping, starting, being deleted), if anything")


class VmRun(BaseModel):
    """A launcher run and, for one the service creates, its progress or why it failed."""

    run: str
    phase: str = Field(description="planned, network, defined, started, ready or failed")
    guests: int
    world: bool = Field(description="whether the world's ranks run on its guests")
    accel: str | None = None
    bridge: str | None = None
    subnet: str | None = None
    stage: str | None = Field(None, description="the phase a failed creation stopped in")
    error: str | None = None
    console_tail: str | None = Field(None, description="the last console lines of the guest "
                                                       "that failed")
    timings: dict[str, float] | None = None


class VmList(BaseModel):
    """Every guest of every saved launcher run, and the runs."""

    vms: list[Vm]
    runs: list[VmRun]


class NamedSpec(BaseModel):
    """A cluster spec by name: a TOML file in the service's specs directory (launch/)."""

    model_config = ConfigDict(extra="forbid")

    spec: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="e.g. two-tcg")


class PlannedVm(BaseModel):
    """A guest about to be created."""

    id: str
    address: str
    vcpus: int
    memory_mib: int
    state: str


class VmCreated(BaseModel):
    """The answer to a create: the run and its guests; progress follows as `vm` events."""

    run: str
    phase: str
    guests: list[PlannedVm]
    location: str


class VmDeleted(BaseModel):
    """One guest removed."""

    id: str
    run: str
    deleted: bool
    run_removed: bool = Field(description="it was the run's last guest: the run is gone too")


class RunDeleted(BaseModel):
    """A whole run removed."""

    run: str
    deleted: bool
    guests: list[str]


class StopRequest(BaseModel):
    """How long a stop waits for the guest to power itself off before destroying it."""

    model_config = ConfigDict(extra="forbid")

    deadline_s: float = Field(20.0, ge=0, le=600)


class VmAction(BaseModel):
    """A guest after a start or a stop."""

    id: str
    state: str
    how: str | None = Field(None, description="a stop: powered off, or destroyed after the "
                                              "deadline")


class ScaleRequest(BaseModel):
    """The seed's scale body: how many guests the world should run on."""

    model_config = ConfigDict(extra="forbid")

    nodes: int = Field(ge=0, le=64, description="guests (0: the world runs on this host only)")
    spec: str | dict[str, Any] | None = Field(
        None, description="a spec name or an inline cluster spec, used when no run exists")
    deadline_s: float = Field(600.0, ge=1, le=3600)


class ScaleResult(BaseModel):
    """The world after a scale."""

    nodes: int
    world: dict[str, Any] = Field(description="as in the status: state, ranks, placement, ...")
