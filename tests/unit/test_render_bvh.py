"""The BVH finds exactly the hits a brute-force pass over every primitive finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from supervm.rendering import prepare
from supervm.rendering.api import intersect, render_rays

SCENES = Path(__file__).parents[2] / "examples" / "scenes"


def _random_scene(rng: np.random.Generator, tmp_path: Path) -> dict:
    centres = rng.uniform(-3, 3, size=(400, 1, 3))
    tris = centres + rng.normal(0, 0.3, size=(400, 3, 3))
    lines = [f"v {x} {y} {z}" for x, y, z in tris.reshape(-1, 3)]
    lines += [f"f {3 * i + 1} {3 * i + 2} {3 * i + 3}" for i in range(400)]
    (tmp_path / "soup.obj").write_text("\n".join(lines) + "\n")
    objects = [{"type": "sphere", "center": c.tolist(), "radius": float(r), "material": "m"}
               for c, r in zip(rng.uniform(-3, 3, (60, 3)), rng.uniform(0.05, 0.6, 60),
                               strict=True)]
    objects += [{"type": "mesh", "file": str(tmp_path / "soup.obj"), "material": "m"},
                {"type": "plane", "point": [0, -4, 0], "normal": [0, 1, 0], "material": "m"}]
    return {"camera": {"eye": [0, 0, 9], "look_at": [0, 0, 0]},
            "materials": {"m": {"type": "lambertian", "albedo": [0.5, 0.5, 0.5]}},
            "objects": objects}


def _compare(scene: object, origins: np.ndarray, dirs: np.ndarray, bounded: int) -> None:
    t_bvh, id_bvh = intersect(scene, origins, dirs)
    t_all, id_all = intersect(scene, origins, dirs, brute=True)
    np.testing.assert_array_equal(t_bvh, t_all)
    # Primitives agree except where two are hit at the very same distance (shared edges).
    assert np.mean(id_bvh == id_all) > 0.999
    assert np.all((id_bvh == id_all) | (t_bvh == t_all))
    # The rays both hit and miss what the BVH holds (ids >= bounded are planes, -1 a miss).
    assert 0.1 < np.mean((id_bvh >= 0) & (id_bvh < bounded)) < 0.95


def test_bvh_matches_brute_force_on_random_rays(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    scene = prepare(_random_scene(rng, tmp_path))
    origins = rng.uniform(-5, 5, size=(3000, 3))
    dirs = rng.normal(size=(3000, 3))
    _compare(scene, origins, dirs, 460)


def test_bvh_matches_brute_force_on_the_mesh_scene() -> None:
    rng = np.random.default_rng(5)
    scene = prepare(SCENES / "mesh.json")
    assert scene.triangle_count == 102_400  # the example mesh scene's promise: >= 100k
    origins = np.array([0, 6.5, 9.5]) + rng.normal(0, 0.2, size=(300, 3))
    dirs = np.array([0, 1.5, 0]) + rng.normal(0, 2.0, size=(300, 3)) - origins
    _compare(scene, origins, dirs, 102400)


def test_bvh_render_equals_brute_force_render() -> None:
    scene = prepare(SCENES / "cornell.json")
    a, rays_a = render_rays(scene, width=16, height=16, spp=2)
    b, rays_b = render_rays(scene, width=16, height=16, spp=2, brute=True)
    assert np.array_equal(a, b) and rays_a == rays_b > 0
