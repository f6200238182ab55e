"""supervm.render(): a scene (file, dict, model) to a linear float32 image in one process."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from supervm import _core
from supervm._checks import resolve_threads
from supervm.rendering.compile import CompiledScene, compile_scene
from supervm.rendering.scene import Scene, SceneError, load_scene
from supervm.rendering.tiling import tiles

SceneLike = str | Path | dict[str, Any] | Scene | CompiledScene


def prepare(scene: SceneLike) -> CompiledScene:
    """Return the scene loaded, checked and built for the tracer (reuse it across frames)."""
    if isinstance(scene, CompiledScene):
        return scene
    return compile_scene(load_scene(scene))


def _positive(name: str, value: Any) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        raise SceneError([f"{name}: expected a positive integer, got {value!r}"]) from None
    if isinstance(value, bool) or number < 1:
        raise SceneError([f"{name}: expected a positive integer, got {value!r}"])
    return number


@dataclass(frozen=True)
class RenderSettings:
    """The size and quality of one render, checked."""

    width: int
    height: int
    spp: int
    tile: int

    @classmethod
    def of(cls, scene: Scene, width: int | None, height: int | None, spp: int | None,
           tile: int) -> RenderSettings:
        """Return the settings, taking what is not given from the scene's image defaults."""
        d = scene.image
        return cls(_positive("width", d.width if width is None else width),
                   _positive("height", d.height if height is None else height),
                   _positive("spp", d.spp if spp is None else spp),
                   _positive("tile", tile))


def render(scene: SceneLike, *, width: int | None = None, height: int | None = None,
           spp: int | None = None, frame: int = 0, tile: int = 32, threads: int | None = None,
           progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Render `frame` of `scene`; return a float32 height x width x 3 linear RGB image.

    width, height and spp default to the scene's `image` block. The image is the same bit
    for bit whatever `tile` and `threads` are. `progress(n)` is called as tiles finish.
    """
    compiled = prepare(scene)
    settings = RenderSettings.of(compiled.scene, width, height, spp, tile)
    frame = operator.index(frame)
    if frame < 0:
        raise SceneError([f"frame: must be >= 0, got {frame}"])
    nthreads = resolve_threads(threads)
    image = np.zeros((settings.height, settings.width, 3), dtype=np.float32)
    work = tiles(settings.width, settings.height, settings.tile)
    camera = compiled.camera(frame)
    # Without a progress callback one call does it all; with one, batches of a few tiles per
    # thread keep the threads busy and report between batches.
    batch = len(work) if progress is None else max(8, 4 * (nthreads or _core.cpu_count()))
    for start in range(0, len(work), batch):
        part = np.ascontiguousarray(work[start:start + batch])
        _core.render_tiles_into(compiled.core, camera, part, image, settings.spp,
                                compiled.scene.max_depth, compiled.scene.seed, frame, nthreads)
        if progress is not None:
            progress(len(part))
    return image


def render_rays(scene: SceneLike, *, width: int, height: int, spp: int, frame: int = 0,
                region: tuple[int, int, int, int] | None = None, threads: int | None = None,
                brute: bool = False) -> tuple[np.ndarray, int]:
    """Render `region` (x0, y0, w, h; default all) and return (image, rays traced).

    `brute` intersects every primitive instead of walking the BVH (for measuring it).
    """
    compiled = prepare(scene)
    image = np.zeros((height, width, 3), dtype=np.float32)
    x0, y0, w, h = region or (0, 0, width, height)
    work = tiles(w, h, 16)
    work[:, 0] += x0
    work[:, 1] += y0
    rays = _core.render_tiles_into(compiled.core, compiled.camera(frame), work, image, spp,
                                   compiled.scene.max_depth, compiled.scene.seed, frame,
                                   resolve_threads(threads), brute)
    return image, int(rays)


def intersect(scene: SceneLike, origins: np.ndarray, dirs: np.ndarray, *,
              brute: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return each ray's nearest hit distance (inf: miss) and primitive id (-1: miss)."""
    compiled = prepare(scene)
    o = np.ascontiguousarray(origins, dtype=np.float32).reshape(-1, 3)
    d = np.ascontiguousarray(dirs, dtype=np.float32).reshape(-1, 3)
    t = np.empty(len(o), dtype=np.float32)
    ids = np.empty(len(o), dtype=np.int64)
    _core.intersect_into(compiled.core, o, d, t, ids, brute)
    return t, ids
