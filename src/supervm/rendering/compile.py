"""Turn a Scene into the flat arrays the C++ tracer takes, and a camera per frame."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from supervm import _core
from supervm.rendering.obj import ObjError, read_obj
from supervm.rendering.scene import (
    MATERIAL_KINDS,
    ConstantEnvironment,
    MeshObject,
    PlaneObject,
    QuadObject,
    Scene,
    SceneError,
    SphereObject,
    _degenerate,
)


@dataclass
class CompiledScene:
    """A scene's geometry built once in C++ (with its BVH), ready for any frame."""

    scene: Scene
    core: _core.RenderScene
    triangle_count: int
    sphere_count: int
    plane_count: int
    _cameras: dict[int, np.ndarray] = field(default_factory=dict)

    def camera(self, frame: int) -> np.ndarray:
        """Return the 13 camera values of `frame` (see csrc/render/arrays.hpp)."""
        if frame not in self._cameras:
            self._cameras[frame] = camera_values(self.scene, frame)
        return self._cameras[frame]


def camera_values(scene: Scene, frame: int) -> np.ndarray:
    """Return the camera at `frame` as 13 float32 values; raise SceneError if degenerate."""
    cam = scene.camera
    eye, look_at, vfov = cam.at(frame)
    why = _degenerate(eye, look_at, cam.up)
    if why:
        raise SceneError([f"camera: degenerate camera at frame {frame}: {why}"])
    focus = cam.focus_distance or math.dist(eye, look_at)
    values = [*eye, *look_at, *cam.up, vfov, cam.aperture, focus,
              1.0 if cam.type == "thin_lens" else 0.0]
    return np.asarray(values, dtype=np.float32)


def _quad_triangles(q: QuadObject) -> np.ndarray:
    c, u, v = (np.asarray(x, dtype=np.float64) for x in (q.corner, q.edge_u, q.edge_v))
    return np.array([[c, c + u, c + u + v], [c, c + u + v, c + v]], dtype=np.float32)


def compile_scene(scene: Scene) -> CompiledScene:
    """Return the scene built for the tracer; raise SceneError naming a bad mesh file."""
    names = list(scene.materials)
    index = {name: i for i, name in enumerate(names)}
    spheres, sphere_mat, planes, plane_mat = [], [], [], []
    tri_blocks: list[np.ndarray] = []
    tri_mat: list[np.ndarray] = []
    for i, obj in enumerate(scene.objects):
        m = index[obj.material]
        if isinstance(obj, SphereObject):
            spheres.append([*obj.center, obj.radius])
            sphere_mat.append(m)
        elif isinstance(obj, PlaneObject):
            n = np.asarray(obj.normal, dtype=np.float64)
            planes.append([*obj.point, *(n / np.linalg.norm(n))])
            plane_mat.append(m)
        else:
            if isinstance(obj, MeshObject):
                try:
                    tris = read_obj(obj.file)
                except ObjError as exc:
                    raise SceneError([f"objects.{i}.file: {exc}"]) from None
                tris = tris * np.float32(obj.scale) + np.asarray(obj.translate, np.float32)
            else:
                tris = _quad_triangles(obj)
            tri_blocks.append(tris.reshape(-1, 9).astype(np.float32))
            tri_mat.append(np.full(len(tris), m, dtype=np.int32))
    materials = []
    for name in names:
        mat = scene.materials[name]
        color = getattr(mat, "albedo", None) or getattr(mat, "emission", (1.0, 1.0, 1.0))
        param = getattr(mat, "fuzz", None)
        param = getattr(mat, "ior", 0.0) if param is None else param
        materials.append([MATERIAL_KINDS[mat.type], *color, param])
    env = scene.environment
    top, bottom = (env.color, env.color) if isinstance(env, ConstantEnvironment) \
        else (env.top, env.bottom)
    triangles = np.concatenate(tri_blocks) if tri_blocks else np.zeros((0, 9), np.float32)
    core = _core.RenderScene(
        np.asarray(spheres, np.float32).reshape(-1), np.asarray(sphere_mat, np.int32),
        np.ascontiguousarray(triangles.reshape(-1)),
        np.concatenate(tri_mat) if tri_mat else np.zeros(0, np.int32),
        np.asarray(planes, np.float32).reshape(-1), np.asarray(plane_mat, np.int32),
        np.asarray(materials, np.float32).reshape(-1),
        np.asarray([*top, *bottom], np.float32),
    )
    return CompiledScene(scene, core, len(triangles), len(spheres), len(planes))
