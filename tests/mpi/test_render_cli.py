"""`supervm render` and `supervm run` with render jobs: images, names, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from launching import REPO, mpirun, supervm_cli
from PIL import Image

import supervm
from supervm.rendering.image import to_srgb8

SCENES = REPO / "examples" / "scenes"
SPHERES = str(SCENES / "spheres.json")
SMALL = ["--width", "24", "--height", "16", "--spp", "2"]


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_render_writes_one_png_per_frame_on_two_ranks(tmp_path: Path) -> None:
    done = supervm_cli(["render", SPHERES, "-o", str(tmp_path / "out.png"), "--np", "2",
                        "--frames", "3:4", "--tile", "8", *SMALL], timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out-0003.png", "out-0004.png"]
    for frame in (3, 4):
        local = supervm.render(SPHERES, width=24, height=16, spp=2, frame=frame)
        assert np.array_equal(_png(tmp_path / f"out-{frame:04d}.png"), to_srgb8(local))
    assert "render" in done.stderr and "tile" in done.stderr  # the progress bar


def test_render_here_writes_the_npy_of_one_frame(tmp_path: Path) -> None:
    done = supervm_cli(["render", SPHERES, "-o", str(tmp_path / "one.npy"), *SMALL],
                       timeout=60)
    assert done.returncode == 0, done.stderr
    local = supervm.render(SPHERES, width=24, height=16, spp=2)
    assert np.array_equal(np.load(tmp_path / "one.npy"), local)


def test_a_bad_scene_exits_2_naming_the_field_and_writes_nothing(tmp_path: Path) -> None:
    scene = json.loads((SCENES / "spheres.json").read_text())
    scene["objects"][1]["radius"] = -2
    (tmp_path / "bad.json").write_text(json.dumps(scene))
    for extra in ([], ["--np", "2"]):
        done = supervm_cli(["render", str(tmp_path / "bad.json"), "-o",
                            str(tmp_path / "x.png"), *extra], timeout=60)
        assert done.returncode == 2
        assert "objects.1.radius: Input should be greater than 0" in done.stderr
        assert "Traceback" not in done.stderr
    (tmp_path / "broken.json").write_text("{")
    done = supervm_cli(["render", str(tmp_path / "broken.json"), "-o", str(tmp_path / "x.png")])
    assert done.returncode == 2 and "not valid JSON" in done.stderr
    done = supervm_cli(["render", SPHERES, "-o", str(tmp_path / "x.jpg")])
    assert done.returncode == 2 and "-o: the image name must end in .png or .npy" in done.stderr
    done = supervm_cli(["render", SPHERES, "-o", str(tmp_path / "x.png"), "--frames", "5:1"])
    assert done.returncode == 2 and "--frames: end 1 is before start 5" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "broken.json"]


def test_supervm_run_renders_a_job_file(tmp_path: Path) -> None:
    job = json.loads((REPO / "examples" / "jobs" / "render-spheres.json").read_text())
    job.update(scene=SPHERES, width=20, height=12, spp=1, frames={"start": 1, "end": 3})
    (tmp_path / "job.json").write_text(json.dumps(job))
    done = supervm_cli(["run", str(tmp_path / "job.json"), "--np", "2", "--out",
                        str(tmp_path / "run")], timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "run" / "result.json").read_text())
    assert report["images"] == ["frame-0001.png", "frame-0002.png", "frame-0003.png"]
    assert report["ranks"] == 2 and sum(report["tiles_per_rank"]) == 3 and report["rays"] > 0
    local = supervm.render(SPHERES, width=20, height=12, spp=1, frame=2)
    assert np.array_equal(_png(tmp_path / "run" / "frame-0002.png"), to_srgb8(local))


def test_ranks_started_by_mpiexec_render_too(tmp_path: Path) -> None:
    done = mpirun(3, ["-m", "supervm", "render", SPHERES, "-o", str(tmp_path / "m.npy"),
                      "--tile", "5", *SMALL], timeout=120)
    assert done.returncode == 0, done.stderr
    local = supervm.render(SPHERES, width=24, height=16, spp=2)
    assert np.array_equal(np.load(tmp_path / "m.npy"), local)


def test_a_mesh_that_does_not_parse_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.obj").write_text("v 0 0 0\nv 1 0 0\nf 1 2 9\n")
    scene = json.loads((SCENES / "mesh.json").read_text())
    scene["objects"][1]["file"] = "bad.obj"
    (tmp_path / "scene.json").write_text(json.dumps(scene))
    for extra in ([], ["--np", "2"]):
        done = supervm_cli(["render", str(tmp_path / "scene.json"), "-o",
                            str(tmp_path / "x.png"), *extra], timeout=60)
        assert done.returncode == 2, done.stderr
        assert "objects.1.file:" in done.stderr and "bad.obj:3: vertex index 9" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.png").exists()
