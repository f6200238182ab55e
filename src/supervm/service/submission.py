"""Turn a submission body into a job spec: the job model itself, or the seed's bodies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from supervm.jobs.inputs import InlineInput, NpyInput, RandomInput
from supervm.jobs.loading import input_size
from supervm.jobs.render_model import RenderJob, seed_render_job
from supervm.jobs.validation import (
    JobError,
    check_scene,
    parse_job,
    preflight,
    with_paths_from,
)
from supervm.service.models import ErrorItem, SeedProcessRequest, SeedRenderRequest


class RequestError(Exception):
    """A request the service refuses; carries the HTTP status and what is wrong."""

    def __init__(self, status: int, message: str, detail: list[ErrorItem] | None = None):
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


@dataclass(frozen=True)
class Limits:
    """What one job may ask for."""

    max_elements: int
    data_dir: Path


def _invalid(items: list[ErrorItem]) -> RequestError:
    summary = "; ".join(f"{i.field}: {i.message}" for i in items)
    return RequestError(422, f"invalid request: {summary}", items)


def _items_of_validation(exc: ValidationError, prefix: str = "") -> list[ErrorItem]:
    items = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "body"
        items.append(ErrorItem(field=prefix + field,
                               message=error["msg"].removeprefix("Value error, ")))
    return items


def _items_of_job_error(exc: JobError) -> list[ErrorItem]:
    items = []
    for line in exc.problems:
        field, _, message = line.partition(": ")
        items.append(ErrorItem(field=field, message=message or line))
    return items


def _parse_spec(data: dict[str, Any]) -> Any:
    try:
        return parse_job(data)
    except JobError as exc:
        raise _invalid(_items_of_job_error(exc)) from None


def seed_process_spec(body: SeedProcessRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the job spec (as a dict) and the recorded hints of a seed process body."""
    params = body.parameters
    job: dict[str, Any] = {"kind": body.operation,
                           "input": {"values": body.inputData, "dtype": params.dtype}}
    if params.threads is not None:
        job["threads"] = params.threads
    if body.operation in ("sort", "argsort"):
        job["gather"] = True  # one result file to download
    if body.operation == "histogram":
        job.update({k: v for k, v in (("bins", params.bins), ("range", params.range))
                    if v is not None})
    if body.operation == "var" and params.ddof is not None:
        job["ddof"] = params.ddof
    hints = {k: v for k, v in (("cpu", params.cpu), ("memory", params.memory)) if v is not None}
    return job, hints


def _confine_npy(spec: Any, limits: Limits) -> Any:
    """Resolve an .npy input under the data directory; refuse paths that leave it."""
    if not isinstance(spec.input, NpyInput):
        return spec
    base = limits.data_dir.resolve()
    path = (base / spec.input.npy).resolve()
    if not path.is_relative_to(base):
        raise _invalid([ErrorItem(field="input.npy", message=f"must name a file under the "
                                  f"service's data directory {base}")])
    return spec.model_copy(update={"input": NpyInput(npy=str(path))})


def _under(path: str | Path, base: Path) -> bool:
    return Path(path).resolve().is_relative_to(base)


def _confine_render(spec: RenderJob, limits: Limits) -> RenderJob:
    """Check a render job's scene, its paths resolved under the data directory; refuse others."""
    from supervm.rendering.scene import MeshObject

    base = limits.data_dir.resolve()
    spec = with_paths_from(spec, base)
    outside = f"must name a file under the service's data directory {base}"
    if isinstance(spec.scene, str) and not _under(spec.scene, base):
        raise _invalid([ErrorItem(field="scene", message=outside)])
    # Loading the scene names its meshes (inside the file) and checks every frame's camera.
    for i, obj in enumerate(check_scene(spec).objects):
        if isinstance(obj, MeshObject) and not _under(obj.file, base):
            raise _invalid([ErrorItem(field=f"scene.objects.{i}.file", message=outside)])
    return spec


def _check_size(spec: Any, limits: Limits) -> None:
    source = spec.input
    if isinstance(source, (InlineInput, RandomInput)) and input_size(source) > limits.max_elements:
        field = "input.values" if isinstance(source, InlineInput) else "input.random.n"
        raise _invalid([ErrorItem(field=field, message=f"at most {limits.max_elements} "
                                  "elements per job on this service")])


def finish_spec(spec: Any, limits: Limits) -> Any:
    """Return a validated spec ready to queue: paths confined, files checked, size bounded."""
    try:
        if isinstance(spec, RenderJob):
            return _confine_render(spec, limits)
        spec = _confine_npy(spec, limits)
        preflight(spec)
    except JobError as exc:
        raise _invalid(_items_of_job_error(exc)) from None
    _check_size(spec, limits)
    return spec


def process_spec(data: Any, limits: Limits) -> tuple[Any, dict[str, Any] | None]:
    """Return the job spec and hints of a /process body (a job spec or the seed's body)."""
    if not isinstance(data, dict):
        raise _invalid([ErrorItem(field="body", message="expected a JSON object")])
    if "kind" in data:
        return finish_spec(_parse_spec(data), limits), None
    if "operation" in data or "inputData" in data:
        try:
            body = SeedProcessRequest.model_validate(data)
        except ValidationError as exc:
            raise _invalid(_items_of_validation(exc)) from None
        job, hints = seed_process_spec(body)
        return finish_spec(_parse_spec(job), limits), hints or None
    raise _invalid([ErrorItem(field="kind", message="Field required: send a job spec (with "
                              "'kind' and 'input') or a seed body (with 'operation' and "
                              "'inputData')")])


def render_spec(data: Any, limits: Limits) -> tuple[Any, dict[str, Any] | None]:
    """Return the render job of a /render body, through the jobs layer's seed mapping."""
    if not isinstance(data, dict):
        raise _invalid([ErrorItem(field="body", message="expected a JSON object")])
    try:
        SeedRenderRequest.model_validate(data)
    except ValidationError as exc:
        raise _invalid(_items_of_validation(exc)) from None
    try:
        job = seed_render_job(data)
    except ValidationError as exc:
        raise _invalid(_items_of_validation(exc)) from None
    except JobError as exc:
        raise _invalid(_items_of_job_error(exc)) from None
    try:
        return finish_spec(job, limits), None
    except RequestError as exc:  # name the scene field as the seed's body does
        raise _invalid([ErrorItem(field=i.field.replace("scene", "sceneFile", 1),
                                  message=i.message) for i in exc.detail or []]) from None
