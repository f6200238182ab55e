"""Reading and checking a job before any rank starts; errors name the field at fault."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from supervm._checks import SUPPORTED_DTYPES
from supervm.jobs.inputs import INPUT_TAGS, NpyInput
from supervm.jobs.models import KINDS, JobSpec, job_adapter
from supervm.jobs.render_model import RenderJob
from supervm.rendering.scene import Scene


class JobError(ValueError):
    """A job that cannot run; `problems` holds one "field: message" line per fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _field_path(loc: Iterable[Any]) -> str:
    """Return a dotted field path without the union tags pydantic inserts."""
    parts = list(loc)
    if parts and parts[0] in KINDS:
        parts = parts[1:]
    # After "input" comes the input form's tag, then its own fields.
    if len(parts) > 2 and parts[0] == "input" and parts[1] in INPUT_TAGS:
        parts = parts[:1] + parts[2:]
    return ".".join(str(p) for p in parts)


def describe_errors(error: ValidationError) -> list[str]:
    """Return one "field: message" line per validation error."""
    lines = []
    for item in error.errors():
        kind, message = item["type"], item["msg"]
        if kind == "union_tag_invalid":
            found = item.get("ctx", {}).get("tag", "?")
            lines.append(f"kind: Input should be one of {', '.join(KINDS)}; got {found!r}")
            continue
        if kind == "union_tag_not_found":
            lines.append(f"kind: Field required (one of {', '.join(KINDS)})")
            continue
        message = message.removeprefix("Value error, ")
        lines.append(f"{_field_path(item['loc']) or 'job'}: {message}")
    return lines


def parse_job(data: Any) -> JobSpec:
    """Return the job spec of a parsed JSON object; raise JobError naming each bad field."""
    if not isinstance(data, dict):
        raise JobError([f"job: expected a JSON object, got {type(data).__name__}"])
    try:
        return job_adapter.validate_python(data)
    except ValidationError as exc:
        raise JobError(describe_errors(exc)) from None


def check_npy(path: Path) -> tuple[np.dtype, int]:
    """Return the dtype and element count of an .npy file; raise JobError if unusable."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise JobError([f"input.npy: cannot read {str(path)!r}: {exc}"]) from None
    if not isinstance(array, np.ndarray):
        raise JobError([f"input.npy: {str(path)!r} is not a single .npy array"])
    dtype = array.dtype.newbyteorder("=")
    if dtype not in SUPPORTED_DTYPES:
        names = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise JobError([f"input.npy: {str(path)!r} holds {array.dtype}; supported: {names}"])
    if array.ndim > 1 and not array.flags.c_contiguous:
        raise JobError([f"input.npy: {str(path)!r} is Fortran-ordered; save it in C order"])
    return array.dtype, int(array.size)


def preflight(spec: JobSpec) -> None:
    """Check what model validation cannot: that an input file exists and is usable."""
    if isinstance(spec, RenderJob):
        check_scene(spec)
    elif isinstance(spec.input, NpyInput):
        check_npy(Path(spec.input.npy))


def check_scene(spec: RenderJob) -> Scene:
    """Load the job's scene (file, meshes) and each frame's camera; raise JobError if bad."""
    from supervm.rendering.compile import camera_values
    from supervm.rendering.scene import SceneError, load_scene

    try:
        scene = load_scene(spec.scene)
        for frame in spec.frames.numbers():
            camera_values(scene, frame)
    except SceneError as exc:
        raise JobError([f"scene: {line}" for line in exc.problems]) from None
    return scene


def with_paths_from(spec: JobSpec, base: Path) -> JobSpec:
    """Return `spec` with relative file paths (.npy, scene, meshes) made absolute from `base`."""
    if isinstance(spec, RenderJob):
        return _render_paths_from(spec, base)
    if isinstance(spec.input, NpyInput) and not Path(spec.input.npy).is_absolute():
        absolute = NpyInput(npy=str((base / spec.input.npy).resolve()))
        return spec.model_copy(update={"input": absolute})
    return spec


def load_job_file(path: str | Path) -> JobSpec:
    """Read, validate and preflight a job file; raise JobError naming the fields at fault."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise JobError([f"job file: cannot read {str(path)!r}: {exc.strerror or exc}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JobError([f"job file: not valid JSON: line {exc.lineno} column {exc.colno}: "
                        f"{exc.msg}"]) from None
    spec = with_paths_from(parse_job(data), path.resolve().parent)
    preflight(spec)
    return spec


def _render_paths_from(spec: RenderJob, base: Path) -> RenderJob:
    """Return a render job whose scene path, or inline scene's mesh paths, are absolute."""
    from supervm.rendering.scene import MeshObject

    if isinstance(spec.scene, str):
        return spec.model_copy(update={"scene": str((base / spec.scene).resolve())})
    objects = [obj.model_copy(update={"file": str((base / obj.file).resolve())})
               if isinstance(obj, MeshObject) else obj for obj in spec.scene.objects]
    return spec.model_copy(update={"scene": spec.scene.model_copy(update={"objects": objects})})
