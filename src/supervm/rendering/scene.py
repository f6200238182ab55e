"""The scene format: pydantic models of a JSON scene, their checks, and loading a scene file.

Errors name the field at fault ("objects.2.radius: ..."); a SceneError carries one line each.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from supervm.paths import PathText


class SceneError(ValueError):
    """A scene that cannot render; `problems` holds one "field: message" line per fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


Vec3 = tuple[float, float, float]


def _finite(value: Vec3) -> Vec3:
    if not all(math.isfinite(v) for v in value):
        raise ValueError("every component must be finite")
    return value


def _radiance(value: Vec3) -> Vec3:
    if not all(math.isfinite(v) and v >= 0 for v in value):
        raise ValueError("components must be finite and >= 0")
    return value


def _fraction(value: Vec3) -> Vec3:
    if not all(0 <= v <= 1 for v in value):
        raise ValueError("components must lie in [0, 1] (no surface reflects more than it gets)")
    return value


Point = Annotated[Vec3, AfterValidator(_finite)]
Radiance = Annotated[Vec3, AfterValidator(_radiance), Field(description="linear RGB, >= 0")]
Albedo = Annotated[Vec3, AfterValidator(_fraction), Field(description="linear RGB in [0, 1]")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lambertian(_Strict):
    """Ideal diffuse surface."""

    type: Literal["lambertian"]
    albedo: Albedo


class Metal(_Strict):
    """Mirror, blurred by `fuzz`."""

    type: Literal["metal"]
    albedo: Albedo
    fuzz: float = Field(0.0, ge=0.0, le=1.0, description="radius of the reflection blur")


class Dielectric(_Strict):
    """Glass-like: reflects or refracts by the Fresnel term, absorbs nothing."""

    type: Literal["dielectric"]
    ior: float = Field(1.5, gt=0.0, le=10.0, description="index of refraction")


class Emissive(_Strict):
    """A light: emits `emission` (linear radiance) and reflects nothing."""

    type: Literal["emissive"]
    emission: Radiance


Material = Annotated[Lambertian | Metal | Dielectric | Emissive, Field(discriminator="type")]
MATERIAL_KINDS = {"lambertian": 0, "metal": 1, "dielectric": 2, "emissive": 3}


class _Object(_Strict):
    material: str = Field(description="name of an entry in `materials`")


class SphereObject(_Object):
    """A sphere."""

    type: Literal["sphere"]
    center: Point
    radius: float = Field(gt=0.0)


class PlaneObject(_Object):
    """An infinite plane through `point` with normal `normal`."""

    type: Literal["plane"]
    point: Point
    normal: Point

    @field_validator("normal")
    @classmethod
    def _nonzero(cls, value: Vec3) -> Vec3:
        if math.hypot(*value) == 0:
            raise ValueError("normal must not be zero")
        return value


class QuadObject(_Object):
    """A parallelogram: corner, corner + edge_u, corner + edge_u + edge_v, corner + edge_v."""

    type: Literal["quad"]
    corner: Point
    edge_u: Point
    edge_v: Point

    @model_validator(mode="after")
    def _not_flat(self) -> QuadObject:
        u, v = self.edge_u, self.edge_v
        c = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
        if math.hypot(*c) == 0:
            raise ValueError("edge_u and edge_v must span a parallelogram (not parallel)")
        return self


class MeshObject(_Object):
    """A Wavefront OBJ triangle mesh, scaled then translated."""

    type: Literal["mesh"]
    file: PathText = Field(description="path of the .obj file, relative to the scene file")
    scale: float = Field(1.0, gt=0.0)
    translate: Point = (0.0, 0.0, 0.0)


SceneObject = Annotated[SphereObject | PlaneObject | QuadObject | MeshObject,
                        Field(discriminator="type")]


def _degenerate(eye: Vec3, look_at: Vec3, up: Vec3) -> str | None:
    """Return why a view is degenerate, or None."""
    w = tuple(e - t for e, t in zip(eye, look_at, strict=True))
    if math.hypot(*w) == 0:
        return "eye equals look_at"
    c = (up[1] * w[2] - up[2] * w[1], up[2] * w[0] - up[0] * w[2], up[0] * w[1] - up[1] * w[0])
    if math.hypot(*c) <= 1e-9 * math.hypot(*w) * math.hypot(*up):
        return "up is parallel to the view direction (or zero)"
    return None


class CameraKey(_Strict):
    """The camera at one frame; frames between keys interpolate linearly."""

    frame: int = Field(ge=0)
    eye: Point
    look_at: Point
    vfov: float | None = Field(None, gt=0.0, lt=180.0)


class Camera(_Strict):
    """Pinhole or thin-lens camera; `keyframes` animate eye, look_at and vfov over frames."""

    type: Literal["pinhole", "thin_lens"] = "pinhole"
    eye: Point
    look_at: Point
    up: Point = (0.0, 1.0, 0.0)
    vfov: float = Field(40.0, gt=0.0, lt=180.0, description="vertical field of view, degrees")
    aperture: float = Field(0.0, ge=0.0, description="lens diameter (thin_lens)")
    focus_distance: float | None = Field(
        None, gt=0.0, description="distance in focus (thin_lens); default |eye - look_at|")
    keyframes: list[CameraKey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _views(self) -> Camera:
        why = _degenerate(self.eye, self.look_at, self.up)
        if why:
            raise ValueError(f"degenerate camera: {why}")
        frames = [k.frame for k in self.keyframes]
        if frames != sorted(set(frames)):
            raise ValueError("keyframes must have strictly increasing frames")
        for i, key in enumerate(self.keyframes):
            why = _degenerate(key.eye, key.look_at, self.up)
            if why:
                raise ValueError(f"degenerate camera at keyframes.{i}: {why}")
        return self

    def at(self, frame: int) -> tuple[Vec3, Vec3, float]:
        """Return (eye, look_at, vfov) at `frame`, held constant outside the keyframes."""
        keys = self.keyframes
        if not keys:
            return self.eye, self.look_at, self.vfov
        if frame <= keys[0].frame or len(keys) == 1:
            k = keys[0] if frame <= keys[0].frame else keys[-1]
            return k.eye, k.look_at, k.vfov or self.vfov
        if frame >= keys[-1].frame:
            return keys[-1].eye, keys[-1].look_at, keys[-1].vfov or self.vfov
        after = next(i for i, k in enumerate(keys) if k.frame > frame)
        a, b = keys[after - 1], keys[after]
        s = (frame - a.frame) / (b.frame - a.frame)

        def lerp(p: Vec3, q: Vec3) -> Vec3:
            return tuple(x + (y - x) * s for x, y in zip(p, q, strict=True))  # type: ignore[return-value]

        vfov = (a.vfov or self.vfov) + ((b.vfov or self.vfov) - (a.vfov or self.vfov)) * s
        return lerp(a.eye, b.eye), lerp(a.look_at, b.look_at), vfov


class ConstantEnvironment(_Strict):
    """The same radiance from every direction."""

    type: Literal["constant"]
    color: Radiance


class GradientEnvironment(_Strict):
    """Radiance blended from `bottom` (straight down) to `top` (straight up)."""

    type: Literal["gradient"]
    top: Radiance
    bottom: Radiance


Environment = Annotated[ConstantEnvironment | GradientEnvironment, Field(discriminator="type")]


class ImageDefaults(_Strict):
    """Image size and quality used when the caller gives none."""

    width: int = Field(320, gt=0, le=16384)
    height: int = Field(240, gt=0, le=16384)
    spp: int = Field(16, gt=0, le=1 << 20, description="samples per pixel")


class Scene(_Strict):
    """A scene: camera, environment light, named materials and objects."""

    seed: int = Field(0, ge=0, lt=1 << 63, description="seeds every pixel's random stream")
    max_depth: int = Field(12, ge=1, le=1000, description="rays per path at most")
    image: ImageDefaults = Field(default_factory=ImageDefaults)
    camera: Camera
    environment: Environment = ConstantEnvironment(type="constant", color=(0.0, 0.0, 0.0))
    materials: dict[str, Material] = Field(min_length=1)
    objects: list[SceneObject] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_materials(self) -> Scene:
        for i, obj in enumerate(self.objects):
            if obj.material not in self.materials:
                known = ", ".join(sorted(self.materials))
                raise ValueError(f"objects.{i}.material: unknown material {obj.material!r}; "
                                 f"defined: {known}")
        return self


_TAGS = {"sphere", "plane", "quad", "mesh", "lambertian", "metal", "dielectric", "emissive",
         "constant", "gradient"}


def _field_path(loc: tuple[Any, ...]) -> str:
    """Return a dotted field path without the union tags pydantic inserts."""
    parts: list[Any] = []
    for i, part in enumerate(loc):
        tagged = i > 0 and (isinstance(loc[i - 1], int) or loc[i - 1] == "environment"
                            or (i > 1 and loc[i - 2] == "materials"))
        if not (tagged and part in _TAGS):
            parts.append(part)
    return ".".join(str(p) for p in parts)


def describe(error: ValidationError) -> list[str]:
    """Return one "field: message" line per validation error."""
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        path = _field_path(item["loc"])
        if item["type"] == "union_tag_invalid":
            ctx = item["ctx"]
            message = f"unknown type {ctx['tag']!r}; expected one of {ctx['expected_tags']}"
        lines.append(f"{path}: {message}" if path else message)
    return lines


def parse_scene(data: Any, base: Path | None = None) -> Scene:
    """Return the Scene of parsed JSON; mesh paths become absolute against `base` (or cwd)."""
    if isinstance(data, Scene):
        scene = data
    elif isinstance(data, dict):
        try:
            scene = Scene.model_validate(data)
        except ValidationError as exc:
            raise SceneError(describe(exc)) from None
    else:
        raise SceneError([f"scene: expected a JSON object, got {type(data).__name__}"])
    base = base or Path.cwd()
    objects = list(scene.objects)
    problems = []
    for i, obj in enumerate(objects):
        if isinstance(obj, MeshObject):
            path = (base / obj.file).resolve()
            if not path.is_file():
                problems.append(f"objects.{i}.file: cannot read {obj.file!r}: no such file")
            objects[i] = obj.model_copy(update={"file": str(path)})
    if problems:
        raise SceneError(problems)
    return scene.model_copy(update={"objects": objects})


def load_scene(source: str | Path | dict[str, Any] | Scene) -> Scene:
    """Return the Scene of a file path, a parsed dict or a Scene; raise SceneError if bad."""
    if isinstance(source, (Scene, dict)):
        return parse_scene(source)
    path = Path(source)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SceneError([f"scene file: cannot read {str(path)!r}: "
                          f"{exc.strerror or exc}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SceneError([f"scene file: not valid JSON: line {exc.lineno} column {exc.colno}: "
                          f"{exc.msg}"]) from None
    return parse_scene(data, path.resolve().parent)
