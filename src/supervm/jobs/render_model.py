"""The render job: a scene, image size and quality, a frame range; and the seed's request form.

The seed system's users posted {"sceneFile", "frameStart", "frameEnd", "options": {"quality",
"resolution"}}; `seed_render_job` maps that body onto a RenderJob. Quality becomes samples
per pixel (QUALITY_SPP): low 16, medium 64, high 256.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from supervm.paths import usable_path
from supervm.rendering.scene import Scene

#: Samples per pixel for each quality name of the seed system's render requests.
QUALITY_SPP = {"low": 16, "medium": 64, "high": 256}


class FrameRange(BaseModel):
    """Frames start..end, both included."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int = Field(0, ge=0, description="first frame")
    end: int = Field(0, ge=0, description="last frame (included)")

    @model_validator(mode="after")
    def _ordered(self) -> FrameRange:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must be >= start ({self.start})")
        return self

    def numbers(self) -> list[int]:
        """Return every frame number of the range."""
        return list(range(self.start, self.end + 1))


class RenderJob(BaseModel):
    """Render frames of a scene; write one image per frame (frame-NNNN.png or .npy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["render"] = Field(description="the job kind")
    scene: str | Scene = Field(
        description="path of a scene JSON file (relative to the job file), or the scene inline")
    width: int | None = Field(None, gt=0, le=16384, description="image width; default the scene's")
    height: int | None = Field(None, gt=0, le=16384,
                               description="image height; default the scene's")
    spp: int | None = Field(None, gt=0, le=1 << 20,
                            description="samples per pixel; default the scene's")
    frames: FrameRange = Field(default_factory=FrameRange,
                               description="frames to render, {start, end} both included")
    tile: int = Field(32, gt=0, le=4096, description="tile edge in pixels (the unit of work)")
    format: Literal["png", "npy"] = Field("png", description="png: 8-bit sRGB; npy: linear float32")
    threads: int = Field(1, ge=1, description="kernel threads per rank")
    ranks: int | None = Field(
        None, ge=1, description="ranks `supervm run` starts when --np is not given (default 1)"
    )

    @field_validator("scene")
    @classmethod
    def _scene_path(cls, scene: str | Scene) -> str | Scene:
        # A validator on the field, not on the str branch: errors then name `scene` alone.
        return usable_path(scene) if isinstance(scene, str) else scene


def _problem(field: str, message: str) -> ValueError:
    from supervm.jobs.validation import JobError

    return JobError([f"{field}: {message}"])


def _int(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _problem(name, f"expected an integer >= 0, got {value!r}")
    return value


def seed_render_job(body: dict[str, Any]) -> RenderJob:
    """Return the RenderJob of a seed-system render request; raise JobError naming the field.

    {"sceneFile": "scene.json", "frameStart": 1, "frameEnd": 100,
     "options": {"quality": "low|medium|high", "resolution": "1920x1080"}}
    """
    from supervm.jobs.validation import JobError, parse_job

    if not isinstance(body, dict):
        raise JobError([f"request: expected a JSON object, got {type(body).__name__}"])
    known = {"sceneFile", "frameStart", "frameEnd", "options"}
    extra = sorted(set(body) - known)
    if extra:
        raise _problem(extra[0], "unknown field; expected sceneFile, frameStart, frameEnd, "
                                 "options")
    scene = body.get("sceneFile")
    if not isinstance(scene, str) or not scene:
        raise _problem("sceneFile", f"expected the path of a scene file, got {scene!r}")
    try:
        usable_path(scene)
    except ValueError as exc:
        raise _problem("sceneFile", str(exc)) from None
    start = _int(body, "frameStart", 0)
    end = _int(body, "frameEnd", start)
    if end < start:
        raise _problem("frameEnd", f"must be >= frameStart ({start}), got {end}")
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise _problem("options", f"expected an object, got {options!r}")
    job: dict[str, Any] = {"kind": "render", "scene": scene,
                           "frames": {"start": start, "end": end}}
    for key in sorted(set(options) - {"quality", "resolution"}):
        raise _problem(f"options.{key}", "unknown option; expected quality, resolution")
    if "quality" in options:
        quality = options["quality"]
        if quality not in QUALITY_SPP:
            raise _problem("options.quality", f"expected one of low, medium, high; got {quality!r}")
        job["spp"] = QUALITY_SPP[quality]
    if "resolution" in options:
        match = re.fullmatch(r"(\d+)x(\d+)", str(options["resolution"]))
        if not match or min(int(match[1]), int(match[2])) < 1:
            raise _problem("options.resolution",
                           f"expected WIDTHxHEIGHT such as 1920x1080, got "
                           f"{options['resolution']!r}")
        job["width"], job["height"] = int(match[1]), int(match[2])
    spec = parse_job(job)
    assert isinstance(spec, RenderJob)
    return spec
