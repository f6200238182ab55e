"""Render jobs: the model, paths against the job file, and the seed system's request body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supervm.jobs import JobError, RenderJob, load_job_file, parse_job, seed_render_job
from supervm.jobs.describe import describe_jobs

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_the_example_job_loads_with_its_scene_path_made_absolute() -> None:
    spec = load_job_file(EXAMPLES / "jobs" / "render-spheres.json")
    assert isinstance(spec, RenderJob)
    assert spec.scene == str((EXAMPLES / "scenes" / "spheres.json").resolve())
    assert spec.frames.numbers() == [1, 2, 3, 4] and spec.ranks == 2


def test_inline_scenes_resolve_mesh_paths_against_the_job_file(tmp_path: Path) -> None:
    scene = json.loads((EXAMPLES / "scenes" / "mesh.json").read_text())
    (tmp_path / "job.json").write_text(json.dumps({"kind": "render", "scene": scene}))
    with pytest.raises(JobError, match=r"scene: objects\.1\.file: cannot read"):
        load_job_file(tmp_path / "job.json")  # torus-knot.obj is not beside this job file
    scene["objects"][1]["file"] = str(EXAMPLES / "scenes" / "torus-knot.obj")
    (tmp_path / "job.json").write_text(json.dumps({"kind": "render", "scene": scene}))
    assert load_job_file(tmp_path / "job.json").scene.objects[1].file.endswith("torus-knot.obj")


@pytest.mark.parametrize(("job", "message"), [
    ({"kind": "render"}, "scene: Field required"),
    ({"kind": "render", "scene": "s.json", "width": -1}, "width: Input should be greater than 0"),
    ({"kind": "render", "scene": "s.json", "frames": {"start": 5, "end": 2}},
     "frames: Value error, end (2) must be >= start (5)"),
    ({"kind": "render", "scene": "s.json", "format": "jpg"}, "format: Input should be 'png'"),
    ({"kind": "render", "scene": "s\x00.json"}, "scene: a file path cannot contain a NUL"),
    ({"kind": "render", "scene": "s\ud800.json"}, "scene: a file path cannot contain '\\ud800'"),
    ({"kind": "sort", "input": {"npy": "a\x00.npy"}},
     "input.npy: a file path cannot contain a NUL"),
])
def test_render_job_refusals_name_the_field(job: dict, message: str) -> None:
    with pytest.raises(JobError) as info:
        parse_job(job)
    assert any(line.startswith(message.replace("Value error, ", "")) for line in
               info.value.problems), info.value.problems


def test_a_missing_scene_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "job.json").write_text(json.dumps({"kind": "render", "scene": "none.json"}))
    with pytest.raises(JobError, match="scene: scene file: cannot read"):
        load_job_file(tmp_path / "job.json")


def test_seed_requests_map_onto_render_jobs() -> None:
    spec = seed_render_job({"sceneFile": "scenes/a.json", "frameStart": 1, "frameEnd": 100,
                            "options": {"quality": "high", "resolution": "1920x1080"}})
    assert (spec.scene, spec.frames.start, spec.frames.end) == ("scenes/a.json", 1, 100)
    assert (spec.width, spec.height, spec.spp) == (1920, 1080, 256)
    plain = seed_render_job({"sceneFile": "a.json"})
    assert plain.frames.numbers() == [0] and plain.spp is None and plain.width is None
    assert seed_render_job({"sceneFile": "a.json", "options": {"quality": "low"}}).spp == 16


@pytest.mark.parametrize(("body", "message"), [
    ({}, "sceneFile: expected the path of a scene file"),
    ({"sceneFile": "a.json", "frameStart": -1}, "frameStart: expected an integer >= 0"),
    ({"sceneFile": "a.json", "frameStart": 5, "frameEnd": 2}, "frameEnd: must be >= frameStart"),
    ({"sceneFile": "a.json", "options": {"quality": "ultra"}}, "options.quality: expected one of"),
    ({"sceneFile": "a.json", "options": {"resolution": "big"}}, "options.resolution: expected"),
    ({"sceneFile": "a.json", "options": {"fps": 30}}, "options.fps: unknown option"),
    ({"sceneFile": "a.json", "priority": 1}, "priority: unknown field"),
    ([1], "request: expected a JSON object"),
])
def test_seed_request_errors_name_the_field(body: object, message: str) -> None:
    with pytest.raises(JobError, match=message):
        seed_render_job(body)  # type: ignore[arg-type]


def test_the_reference_describes_render_jobs() -> None:
    text = describe_jobs()
    assert 'kind "render"' in text
    for name in RenderJob.model_fields:
        assert f"    {name} (" in text
