"""Against a real `supervm serve` (uvicorn + a 2-rank world) on a loopback port."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from live import LiveService, live_service

REPO = Path(__file__).parents[2]
#: Large enough to still be running when the test acts on it (a second or more here).
SLOW_JOB = {"kind": "sort", "input": {"random": {"n": 30_000_000, "dtype": "int64"}}}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with live_service(tmp_path_factory.mktemp("live") / "state") as service:
        yield service


def test_submit_complete_and_fetch(svc: LiveService) -> None:
    task_id = svc.submit({"inputData": [5, 3, 9, 1, 3], "operation": "sort",
                          "parameters": {"cpu": 2, "memory": 2048}})
    task = svc.wait(task_id)
    assert task["state"] == "done", task
    assert [t["state"] for t in task["transitions"]] == ["queued", "running", "done"]
    assert task["hints"] == {"cpu": 2, "memory": 2048}
    result = svc.client.get(task["result_url"])
    assert result.json()["values"] == [1, 3, 3, 5, 9]
    download = svc.client.get(task["result_url"], params={"format": "npy"})
    assert download.headers["content-type"] == "application/octet-stream"
    assert np.load(io.BytesIO(download.content)).tolist() == [1, 3, 3, 5, 9]
    assert httpx.get(f"{svc.url}{task['result_url']}").status_code == 401


@pytest.mark.parametrize(("body", "expected"), [
    ({"inputData": [1, 2, 3, 4], "operation": "sum"}, 10),
    ({"inputData": [4, -2.5, 8], "operation": "min"}, -2.5),
    ({"inputData": [4, -2.5, 8], "operation": "max"}, 8),
    ({"inputData": [1, 2, 3, 4], "operation": "mean"}, 2.5),
    ({"inputData": [1, 2, 3, 4], "operation": "var", "parameters": {"ddof": 1}}, 5 / 3),
    ({"inputData": [0.5, 1.5, 1.6, 3.9], "operation": "histogram",
      "parameters": {"bins": 4, "range": [0, 4]}},
     {"counts": [1, 2, 0, 1], "edges": [0.0, 1.0, 2.0, 3.0, 4.0]}),
])
def test_reductions_come_back_inline(svc: LiveService, body: dict, expected: object) -> None:
    task = svc.wait(svc.submit(body))
    assert task["state"] == "done", task
    assert task["result"] == pytest.approx(expected) if not isinstance(expected, dict) \
        else task["result"] == expected
    assert svc.client.get(task["result_url"]).json()["result"] == task["result"]


def test_a_distributed_job_spec_and_its_large_result(svc: LiveService) -> None:
    n = 200_000  # above the solo threshold: both ranks sort, one file per rank
    task = svc.wait(svc.submit({"kind": "argsort", "input": {"random": {
        "n": n, "dtype": "float32", "dist": "normal", "seed": 5}}}))
    assert task["state"] == "done", task
    download = svc.client.get(task["result_url"])  # too large for JSON by default
    assert download.headers["content-type"] == "application/octet-stream"
    indices = np.load(io.BytesIO(download.content))
    assert indices.shape == (n,) and np.array_equal(np.sort(indices), np.arange(n))


def test_a_render_through_the_seed_body_comes_back_as_png(svc: LiveService) -> None:
    from PIL import Image

    shutil.copy(REPO / "examples" / "scenes" / "spheres.json", svc.state_dir / "data")
    task = svc.wait(svc.submit({"sceneFile": "spheres.json", "frameStart": 2, "frameEnd": 3,
                                "options": {"quality": "low", "resolution": "40x30"}},
                               path="/api/super-vm/render"), deadline_s=120)
    assert task["state"] == "done", task
    listing = svc.client.get(task["result_url"]).json()
    assert [f["frame"] for f in listing["frames"]] == [2, 3]
    png = svc.client.get(listing["frames"][1]["url"])
    assert png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.size == (40, 30) and image.mode == "RGB"
    assert svc.client.get(task["result_url"], params={"frame": 9}).status_code == 404


def test_a_failing_job_fails_and_the_world_stays_up(svc: LiveService) -> None:
    restarts = svc.status()["world"]["restarts"]
    task = svc.wait(svc.submit({"kind": "min", "input": {"values": []}}))
    assert task["state"] == "failed"
    assert "zero-size array" in task["error"]
    assert svc.status()["world"]["restarts"] == restarts
    assert svc.wait(svc.submit({"inputData": [2, 1], "operation": "sort"}))["state"] == "done"


def test_events_stream_reports_each_state(svc: LiveService) -> None:
    seen: list[dict] = []
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{svc.url}/api/events", timeout=20) as stream:
            ready.set()
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
                    if seen[-1]["state"] == "done":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(10)
    time.sleep(0.2)  # the subscription is made right after the headers go out
    task_id = svc.submit({"inputData": [3, 2, 1], "operation": "sort"})
    listener.join(20)
    assert not listener.is_alive()
    assert [e["state"] for e in seen if e["id"] == task_id] == ["queued", "running", "done"]


@pytest.mark.parametrize("victim", ["rank", "mpiexec"])
def test_world_killed_mid_job_fails_the_job_then_restarts(svc: LiveService, victim: str) -> None:
    restarts = svc.status()["world"]["restarts"]
    slow = svc.submit(SLOW_JOB)
    svc.wait(slow, until=("running", "done", "failed"))
    if victim == "rank":
        os.kill(svc.client.get("/api/nodes").json()["nodes"][0]["pids"][-1], signal.SIGKILL)
    else:
        os.kill(svc.status()["world"]["pid"], signal.SIGKILL)
    task = svc.wait(slow)
    assert task["state"] == "failed"
    assert "world exited" in task["error"] and "during the task" in task["error"]
    after = svc.wait(svc.submit({"inputData": [9, 8], "operation": "sort"}))
    assert after["state"] == "done"
    status = svc.status()
    assert status["world"]["restarts"] == restarts + 1 and status["world"]["state"] == "idle"
    assert "supervm_world_restarts_total" in svc.client.get("/metrics").text


def test_cancel_queued_and_running(svc: LiveService) -> None:
    slow = svc.submit(SLOW_JOB)
    queued = svc.submit({"inputData": [1, 2], "operation": "sum"})
    svc.wait(slow, until=("running", "done", "failed"))
    gone = svc.client.delete(f"/api/tasks/{queued}")
    assert gone.status_code == 200 and gone.json()["state"] == "cancelled"
    stopped = svc.client.delete(f"/api/tasks/{slow}")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["state"] == "cancelled"
    assert [t["state"] for t in stopped.json()["transitions"]] == [
        "queued", "running", "cancelled"]
    assert svc.wait(svc.submit({"inputData": [4, 3], "operation": "sort"}))["state"] == "done"
    assert svc.client.get(f"/api/tasks/{queued}").json()["started_at"] is None


def test_200_jobs_from_20_clients_complete_exactly_once(svc: LiveService) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        with httpx.Client(base_url=svc.url, timeout=60,
                          headers={"Authorization": f"Bearer {svc.token}"}) as c:
            mine = []
            for j in range(10):
                body = {"inputData": [index, j, index * j], "operation": "sort"}
                answer = c.post("/api/super-vm/process", json=body)
                assert answer.status_code == 202
                mine.append(answer.json()["id"])
            with lock:
                ids.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(ids) == 200 and len(set(ids)) == 200
    for task_id in ids:
        assert svc.wait(task_id, deadline_s=120)["state"] == "done"
    db = sqlite3.connect(svc.state_dir / "supervm.db")
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT task_id, group_concat(state, ',') FROM (SELECT task_id, state "
                      f"FROM transitions WHERE task_id IN ({marks}) ORDER BY rowid) "
                      "GROUP BY task_id", ids).fetchall()
    db.close()
    assert len(rows) == 200
    assert {states for _, states in rows} == {"queued,running,done"}


def test_status_nodes_resources_metrics(svc: LiveService) -> None:
    status = svc.status()
    assert status["world"]["size"] == 2 and status["uptime_s"] > 0
    nodes = svc.client.get("/api/nodes").json()["nodes"]
    assert sum(len(n["ranks"]) for n in nodes) == 2
    one = svc.client.get(f"/api/nodes/{nodes[0]['id']}").json()
    assert one["memory"]["total_bytes"] > 0
    metrics = svc.client.get("/api/super-vm/metrics").json()
    assert metrics["jobs"]["by_state"]["done"] >= 1
    assert metrics["durations_s"]["run"]["p50"] > 0
    text = svc.client.get("/metrics").text
    assert 'supervm_tasks{kind="sort",state="done"}' in text
    assert "supervm_job_duration_seconds_bucket" in text
    assert "supervm_world_ranks 2.0" in text


def test_restart_keeps_history_and_runs_queued_tasks(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with live_service(state) as first:
        done = first.submit({"inputData": [2, 1], "operation": "sort"})
        first.wait(done)
        slow = first.submit(SLOW_JOB)
        queued = [first.submit({"inputData": [i, 0], "operation": "sum"}) for i in range(3)]
        first.wait(slow, until=("running", "done", "failed"))
        ended = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{first.url}/api/events", timeout=30) as stream:
                for _ in stream.iter_lines():
                    pass
            ended.set()

        threading.Thread(target=listen, daemon=True).start()
        time.sleep(0.3)
        stopping = time.monotonic()
        # uvicorn re-raises the signal once shut down: a clean SIGTERM exit reads as -15.
        assert first.stop() in (0, -signal.SIGTERM)
        assert ended.wait(5), "the event stream outlived the server"
        assert time.monotonic() - stopping < 10
    with live_service(state) as second:
        assert second.client.get(f"/api/tasks/{done}").json()["state"] == "done"
        interrupted = second.client.get(f"/api/tasks/{slow}").json()
        assert interrupted["state"] == "failed"
        assert interrupted["error"] == "the service stopped during the task"
        assert [t["state"] for t in interrupted["transitions"]] == ["queued", "running",
                                                                    "failed"]
        for i, task_id in enumerate(queued):
            assert second.wait(task_id)["result"] == i
        assert second.client.get("/api/tasks").json()["total"] == 5


def test_a_job_past_its_timeout_fails_and_the_world_restarts(tmp_path: Path) -> None:
    with live_service(tmp_path / "state", extra=["--job-timeout", "0.3"]) as svc:
        task = svc.wait(svc.submit(SLOW_JOB))
        assert task["state"] == "failed"
        assert "no result within the job timeout of 0.3 s" in task["error"]
        assert svc.wait(svc.submit({"inputData": [2, 1], "operation": "sort"}))["state"] == "done"
        assert svc.status()["world"]["restarts"] == 1
