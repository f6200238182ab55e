"""Scene files: every bad input is refused with the field at fault; the schema stays current."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import supervm
from supervm.rendering.obj import ObjError, read_obj
from supervm.rendering.scene import SceneError, load_scene, parse_scene
from supervm.rendering.schema import SCHEMA_PATH, schema_text

SCENES = Path(__file__).parents[2] / "examples" / "scenes"


def minimal(**changes: Any) -> dict[str, Any]:
    """Return a small valid scene dict with `changes` applied at the top level."""
    scene: dict[str, Any] = {
        "camera": {"eye": [0, 0, 4], "look_at": [0, 0, 0]},
        "environment": {"type": "constant", "color": [1, 1, 1]},
        "materials": {"grey": {"type": "lambertian", "albedo": [0.5, 0.5, 0.5]}},
        "objects": [{"type": "sphere", "center": [0, 0, 0], "radius": 1, "material": "grey"}],
    }
    scene.update(changes)
    return scene


def problems(data: Any) -> str:
    with pytest.raises(SceneError) as info:
        parse_scene(data)
    return str(info.value)


BAD = [
    (minimal(objects=[{"type": "sphere", "center": [0, 0, 0], "radius": -1, "material": "grey"}]),
     "objects.0.radius: Input should be greater than 0"),
    (minimal(image={"width": -5}), "image.width: Input should be greater than 0"),
    (minimal(objects=[{"type": "sphere", "center": [0, 0, 0], "radius": 1, "material": "nope"}]),
     "objects.0.material: unknown material 'nope'; defined: grey"),
    (minimal(materials={"x": {"type": "plastic"}}), "materials.x: unknown type 'plastic'"),
    (minimal(materials={"x": {"type": "lambertian", "albedo": [2, 0, 0]}}),
     "materials.x.albedo: components must lie in [0, 1]"),
    (minimal(camera={"eye": [1, 2, 3], "look_at": [1, 2, 3]}),
     "camera: degenerate camera: eye equals look_at"),
    (minimal(camera={"eye": [0, 4, 0], "look_at": [0, 0, 0]}),
     "camera: degenerate camera: up is parallel"),
    (minimal(camera={"eye": [0, 0, 4], "look_at": [0, 0, 0], "vfov": 180}),
     "camera.vfov: Input should be less than 180"),
    (minimal(objects=[{"type": "cube", "material": "grey"}]), "objects.0: unknown type 'cube'"),
    (minimal(objects=[{"type": "sphere", "center": [0, 0, 0], "radius": 1, "material": "grey",
                       "colour": 1}]), "objects.0.colour: Extra inputs are not permitted"),
    (minimal(objects=[{"type": "plane", "point": [0, 0, 0], "normal": [0, 0, 0],
                       "material": "grey"}]), "objects.0.normal: normal must not be zero"),
    (minimal(environment={"type": "gradient", "top": [1, 1, 1]}),
     "environment.bottom: Field required"),
    ([1, 2], "scene: expected a JSON object, got list"),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_bad_scenes_name_the_field(data: Any, message: str) -> None:
    assert message in problems(data)


def test_invalid_json_and_missing_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"camera": ')
    with pytest.raises(SceneError, match="scene file: not valid JSON: line 1"):
        load_scene(tmp_path / "broken.json")
    with pytest.raises(SceneError, match="scene file: cannot read"):
        load_scene(tmp_path / "absent.json")
    mesh = minimal(objects=[{"type": "mesh", "file": "gone.obj", "material": "grey"}])
    (tmp_path / "mesh.json").write_text(json.dumps(mesh))
    with pytest.raises(SceneError, match=r"objects\.0\.file: cannot read 'gone.obj'"):
        load_scene(tmp_path / "mesh.json")


def test_render_arguments_are_checked() -> None:
    for name in ("width", "height", "spp", "tile"):
        with pytest.raises(SceneError, match=f"{name}: expected a positive integer"):
            supervm.render(minimal(), **{"width": 8, "height": 8, "spp": 1, name: -3})


def test_degenerate_interpolated_camera_is_refused() -> None:
    camera = {"eye": [0, 0, 4], "look_at": [0, 0, 0], "keyframes": [
        {"frame": 0, "eye": [0, 0, 4], "look_at": [0, 0, 0]},
        {"frame": 10, "eye": [0, 0, -4], "look_at": [0, 0, 0]}]}
    scene = parse_scene(minimal(camera=camera))
    assert scene.camera.at(5)[0] == (0.0, 0.0, 0.0)  # passes through look_at at frame 5
    with pytest.raises(SceneError, match="camera: degenerate camera at frame 5"):
        supervm.render(scene, width=4, height=4, spp=1, frame=5)


def test_keyframes_interpolate_linearly_and_hold_outside() -> None:
    camera = {"eye": [0, 0, 4], "look_at": [0, 0, 0], "vfov": 30, "keyframes": [
        {"frame": 10, "eye": [0, 0, 4], "look_at": [0, 0, 0]},
        {"frame": 20, "eye": [4, 0, 4], "look_at": [0, 2, 0], "vfov": 50}]}
    cam = parse_scene(minimal(camera=camera)).camera
    assert cam.at(15) == ((2.0, 0.0, 4.0), (0.0, 1.0, 0.0), 40.0)
    assert cam.at(0) == cam.at(10) and cam.at(99) == cam.at(20)


def test_obj_reader_forms(tmp_path: Path) -> None:
    path = tmp_path / "shape.obj"
    path.write_text("# a quad and a triangle\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\n"
                    "vn 0 0 1\nf 1/1/1 2/1/1 3/1/1 4/1/1\nf -4//1 -3//1 -1//1\n")
    tris = read_obj(path)
    assert tris.shape == (3, 3, 3)
    np.testing.assert_array_equal(tris[1], [[0, 0, 0], [1, 1, 0], [0, 1, 0]])
    np.testing.assert_array_equal(tris[2], [[0, 0, 0], [1, 0, 0], [0, 1, 0]])


@pytest.mark.parametrize(("text", "message"), [
    ("v 0 0 0\nv 1 0\n", "shape.obj:2: a vertex needs three numbers"),
    ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n", "shape.obj:4: vertex index 7 out of range"),
    ("v 0 0 0\nf 1 x 1\n", "shape.obj:2: bad vertex index 'x'"),
    ("v 0 0 0\n", "no faces"),
])
def test_obj_reader_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "shape.obj").write_text(text)
    with pytest.raises(ObjError, match=message):
        read_obj(tmp_path / "shape.obj")


def test_a_bad_mesh_file_names_the_object(tmp_path: Path) -> None:
    (tmp_path / "bad.obj").write_text("v 0 0 0\nf 1 2 3\n")
    scene = minimal(objects=[{"type": "mesh", "file": "bad.obj", "material": "grey"}])
    (tmp_path / "scene.json").write_text(json.dumps(scene))
    with pytest.raises(SceneError, match=r"objects\.0\.file: .*bad.obj:2: vertex index 2"):
        supervm.render(tmp_path / "scene.json", width=4, height=4, spp=1)


def test_committed_schema_matches_the_model() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), \
        "scene.schema.json is stale: run python -m supervm.rendering.schema"


def test_example_scenes_load() -> None:
    for name in ("cornell", "spheres", "mesh"):
        scene = load_scene(SCENES / f"{name}.json")
        assert scene.objects and math.isfinite(scene.camera.vfov)
