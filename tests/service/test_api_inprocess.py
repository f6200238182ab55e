"""The app in process (no world): validation, auth, errors, the seed body, the OpenAPI file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import TOKEN, make_client
from starlette.testclient import TestClient

from supervm.service.openapi import render

REPO = Path(__file__).parents[2]


def test_openapi_file_matches_the_models() -> None:
    committed = (REPO / "api" / "openapi.json").read_text()
    assert committed == render(), (
        "api/openapi.json is stale: run `python -m supervm.service.openapi > api/openapi.json`")


def test_openapi_is_served(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert "JobSpec" in document["components"]["schemas"]
    assert "/api/super-vm/process" in document["paths"]


def test_mutations_need_the_token(client: TestClient, auth: dict[str, str]) -> None:
    body = {"inputData": [3, 1, 2], "operation": "sort"}
    missing = client.post("/api/super-vm/process", json=body)
    assert missing.status_code == 401
    assert "missing bearer token" in missing.json()["error"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = client.post("/api/super-vm/process", json=body,
                        headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "wrong bearer token"
    malformed = client.post("/api/super-vm/process", json=body,
                            headers={"Authorization": TOKEN})
    assert "malformed" in malformed.json()["error"]
    assert client.delete("/api/tasks/x").status_code == 401
    assert client.get("/api/tasks/x/result").status_code == 401
    assert client.post("/api/super-vm/process", json=body, headers=auth).status_code == 202


def test_reads_are_open_on_loopback_only(tmp_path: Path, auth: dict[str, str]) -> None:
    with make_client(tmp_path / "open") as open_client:
        assert open_client.get("/api/tasks").status_code == 200
    with make_client(tmp_path / "closed", open_reads=False) as closed:
        assert closed.get("/api/tasks").status_code == 401
        assert closed.get("/api/health").status_code == 200
        assert closed.get("/api/tasks", headers=auth).status_code == 200


def test_seed_body_maps_to_the_job_model(client: TestClient, auth: dict[str, str]) -> None:
    body = {"inputData": [5, 3, 9, 1], "operation": "sort",
            "parameters": {"cpu": 2, "memory": 2048}}
    answer = client.post("/api/super-vm/process", json=body, headers=auth)
    assert answer.status_code == 202
    created = answer.json()
    assert created["state"] == "queued" and created["kind"] == "sort"
    assert answer.headers["location"] == created["location"] == f"/api/tasks/{created['id']}"
    task = client.get(created["location"]).json()
    assert task["spec"]["input"]["values"] == [5, 3, 9, 1]
    assert task["spec"]["gather"] is True
    assert task["hints"] == {"cpu": 2, "memory": 2048}
    assert [t["state"] for t in task["transitions"]] == ["queued"]


def test_histogram_and_var_parameters_reach_the_job(client: TestClient,
                                                    auth: dict[str, str]) -> None:
    hist = client.post("/api/super-vm/process", headers=auth, json={
        "inputData": [1.0, 2.5], "operation": "histogram",
        "parameters": {"bins": 4, "range": [0, 4]}}).json()
    spec = client.get(hist["location"]).json()["spec"]
    assert (spec["bins"], spec["range"]) == (4, [0.0, 4.0])
    var = client.post("/api/super-vm/process", headers=auth, json={
        "inputData": [1, 2], "operation": "var", "parameters": {"ddof": 1}}).json()
    assert client.get(var["location"]).json()["spec"]["ddof"] == 1


def test_a_job_spec_is_accepted_as_it_is(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.post("/api/super-vm/process", headers=auth, json={
        "kind": "mean", "input": {"random": {"n": 1000, "seed": 3}}})
    assert answer.status_code == 202
    assert answer.json()["kind"] == "mean"


@pytest.mark.parametrize(("body", "field"), [
    ({"inputData": [1, 2], "operation": "median"}, "operation"),
    ({"inputData": "abc", "operation": "sort"}, "inputData"),
    ({"inputData": [1], "operation": "sort", "parameters": {"cpu": 0}}, "parameters.cpu"),
    ({"inputData": [1], "operation": "sort", "parameters": {"gpus": 1}}, "parameters.gpus"),
    ({"kind": "sort", "input": {"random": {"n": -5}}}, "input.random.n"),
    ({"kind": "teleport", "input": {"values": [1]}}, "kind"),
    ({"kind": "sort", "input": {"values": [1]}, "threads": 0}, "threads"),
    ({"input": {"values": [1]}}, "kind"),
    ({"kind": "sort", "input": {"npy": "../../etc/passwd.npy"}}, "input.npy"),
    ({"kind": "sort", "input": {"npy": "missing.npy"}}, "input.npy"),
    ({"kind": "sort", "input": {"random": {"n": 10**12}}}, "input.random.n"),
])
def test_bad_input_names_the_field(client: TestClient, auth: dict[str, str], body: dict,
                                   field: str) -> None:
    answer = client.post("/api/super-vm/process", json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    payload = answer.json()
    assert field in [item["field"] for item in payload["detail"]], payload
    assert "Traceback" not in answer.text


def test_npy_input_under_the_data_dir(tmp_path: Path, auth: dict[str, str]) -> None:
    with make_client(tmp_path) as c:
        data_dir = tmp_path / "state" / "data"
        np.save(data_dir / "ramp.npy", np.arange(10))
        answer = c.post("/api/super-vm/process", headers=auth,
                        json={"kind": "sum", "input": {"npy": "ramp.npy"}})
        assert answer.status_code == 202, answer.text
        spec = c.get(answer.json()["location"]).json()["spec"]
        assert spec["input"]["npy"] == str((data_dir / "ramp.npy").resolve())


def test_malformed_and_oversized_bodies(tmp_path: Path, auth: dict[str, str]) -> None:
    with make_client(tmp_path, max_body_bytes=1000) as c:
        bad = c.post("/api/super-vm/process", content=b"{not json", headers=auth)
        assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]
        empty = c.post("/api/super-vm/process", content=b"", headers=auth)
        assert empty.status_code == 400
        big = c.post("/api/super-vm/process", headers=auth,
                     json={"inputData": list(range(1000)), "operation": "sort"})
        assert big.status_code == 413 and "limit of 1000 bytes" in big.json()["error"]
        array = c.post("/api/super-vm/process", json=[1, 2], headers=auth)
        assert array.status_code == 422


def test_unknown_things_answer_404_json(client: TestClient, auth: dict[str, str]) -> None:
    route = client.get("/api/nope")
    assert route.status_code == 404 and "no such endpoint" in route.json()["error"]
    assert client.get("/api/tasks/abc").status_code == 404
    assert client.get("/api/tasks/abc/result", headers=auth).status_code == 404
    assert client.delete("/api/tasks/abc", headers=auth).status_code == 404
    assert client.get("/api/nodes/nowhere").status_code == 404
    assert client.put("/api/tasks", headers=auth).status_code == 405


def test_task_list_filters_and_pages(client: TestClient, auth: dict[str, str]) -> None:
    for op in ("sum", "sum", "min"):
        client.post("/api/super-vm/process", headers=auth,
                    json={"inputData": [1, 2], "operation": op})
    page = client.get("/api/tasks", params={"kind": "sum", "limit": 1}).json()
    assert (page["total"], len(page["tasks"]), page["limit"]) == (2, 1, 1)
    assert client.get("/api/tasks", params={"state": "done"}).json()["total"] == 0
    assert client.get("/api/tasks", params={"state": "bogus"}).status_code == 422
    assert client.get("/api/tasks", params={"limit": "x"}).status_code == 422


def test_cancel_a_queued_task(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/super-vm/process", headers=auth,
                          json={"inputData": [1], "operation": "sum"}).json()
    cancelled = client.delete(created["location"], headers=auth)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    again = client.delete(created["location"], headers=auth)
    assert again.status_code == 409
    result = client.get(f"{created['location']}/result", headers=auth)
    assert result.status_code == 409 and "cancelled" in result.json()["error"]


def test_render_submission_confines_scene_and_meshes(tmp_path: Path,
                                                    auth: dict[str, str]) -> None:
    with make_client(tmp_path) as c:
        data_dir = tmp_path / "state" / "data"
        shutil.copy(REPO / "examples" / "scenes" / "spheres.json", data_dir / "spheres.json")
        body = {"sceneFile": "spheres.json", "frameStart": 1, "frameEnd": 2,
                "options": {"quality": "low", "resolution": "64x48"}}
        answer = c.post("/api/super-vm/render", headers=auth, json=body)
        assert answer.status_code == 202, answer.text
        spec = c.get(answer.json()["location"]).json()["spec"]
        assert spec["kind"] == "render" and spec["scene"] == str(data_dir / "spheres.json")
        assert (spec["width"], spec["height"], spec["spp"]) == (64, 48, 16)
        # A scene outside the data directory, or one whose mesh is, is refused.
        outside = c.post("/api/super-vm/render", headers=auth,
                         json={**body, "sceneFile": str(REPO / "examples/scenes/spheres.json")})
        assert outside.status_code == 422
        assert outside.json()["detail"][0]["field"] == "sceneFile"
        mesh_scene = json.loads((REPO / "examples" / "scenes" / "mesh.json").read_text())
        for obj in mesh_scene["objects"]:
            if obj["type"] == "mesh":
                obj["file"] = str(REPO / "examples" / "scenes" / obj["file"])
        (data_dir / "mesh.json").write_text(json.dumps(mesh_scene))
        escaped = c.post("/api/super-vm/render", headers=auth,
                         json={**body, "sceneFile": "mesh.json"})
        assert escaped.status_code == 422, escaped.text
        assert escaped.json()["detail"][0]["field"].startswith("sceneFile.objects.")
        missing = c.post("/api/super-vm/render", headers=auth,
                         json={**body, "sceneFile": "nope.json"})
        assert missing.status_code == 422 and "cannot read" in missing.text


def test_render_body_is_validated(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.post("/api/super-vm/render", headers=auth, json={"frameStart": "x"})
    assert answer.status_code == 422
    assert {"sceneFile", "frameStart"} <= {i["field"] for i in answer.json()["detail"]}
    # Paths no operating system can open are refused by name, not by a server error.
    for bad in ("a\\u0000b.json", "\\ud800.json"):  # JSON escapes: NUL, a lone surrogate
        answer = client.post("/api/super-vm/render", content=f'{{"sceneFile": "{bad}"}}',
                             headers={**auth, "Content-Type": "application/json"})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["field"] == "sceneFile"


def test_status_without_a_world(client: TestClient) -> None:
    status = client.get("/api/super-vm/status").json()
    assert status["world"]["state"] == "stopped" and status["queue_length"] == 0
    assert client.get("/api/health").json()["status"] == "degraded"
    assert client.get("/api/nodes").json() == {"nodes": []}
    resources = client.get("/api/super-vm/resources").json()
    assert resources["hosts"][0]["cpu"]["count"] >= 1
    assert resources["hosts"][0]["memory"]["total_bytes"] > 0
    assert isinstance(resources["hosts"][0]["gpus"], list)
    metrics = client.get("/metrics")
    assert "supervm_queue_depth 0.0" in metrics.text
    assert "supervm_world_restarts_total 0.0" in metrics.text


def test_every_example_request_is_accepted(tmp_path: Path, auth: dict[str, str]) -> None:
    examples = sorted((REPO / "api" / "examples").glob("process-*.json"))
    assert len(examples) >= 5
    with make_client(tmp_path) as c:
        np.save(tmp_path / "state" / "data" / "ramp.npy", np.arange(100))
        for path in examples:
            answer = c.post("/api/super-vm/process", content=path.read_bytes(), headers=auth)
            assert answer.status_code == 202, (path.name, answer.text)


def test_an_internal_error_shows_no_traceback(client: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from supervm.service.routes import health

    def broken() -> dict:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(health, "local_host", broken)
    answer = client.get("/api/super-vm/resources")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error; the server's log has the details"}
    assert "secret" not in answer.text and "Traceback" not in answer.text
