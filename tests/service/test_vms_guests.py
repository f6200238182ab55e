"""Real guests through the live service: create, scale the world onto them, a sort whose
ranks run in the guests, stop and start, delete; nothing left behind (marker `guests`).

One module-scoped boot of two TCG guests (1 vCPU, 1024 MiB) on 10.79.0.0/24.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from guest_support import (
    assert_nothing_left,
    cleanup_runs,
    spec_body,
    wait_run,
)
from live import LiveService, live_service
from real_guests import libvirtd_running, why_guests_cannot_boot

pytestmark = [pytest.mark.guests, pytest.mark.timeout(1500)]

if why_guests_cannot_boot():
    pytest.skip(why_guests_cannot_boot() or "", allow_module_level=True)


class EventLog:
    """The `vm` events of /api/events, collected by a thread until closed."""

    def __init__(self, url: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()

    def _read(self, url: str) -> None:
        name = ""
        try:
            with self._client.stream("GET", f"{url}/api/events") as answer:
                for line in answer.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: ") and name == "vm":
                        self.events.append(json.loads(line[6:]))
        except (httpx.HTTPError, RuntimeError):
            return  # closed by the test

    def close(self) -> None:
        self._client.close()


@pytest.fixture(scope="module")
def booted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveService, Path]]:
    """Yield a live service with its own launcher state directory (cleaned up afterwards)."""
    root = tmp_path_factory.mktemp("vms")
    launch = root / "launch"
    with libvirtd_running(root / "libvirtd-log"), live_service(
            root / "state", ranks=2, env={"SUPERVM_LAUNCH_STATE": str(launch)}) as svc:
        try:
            yield svc, launch
        finally:
            svc.stop()
            cleanup_runs(launch)


@pytest.fixture
def events(booted: tuple[LiveService, Path]) -> Iterator[EventLog]:
    """The service's `vm` events from now on; the stream is closed however the test ends."""
    log = EventLog(booted[0].url)
    try:
        yield log
    finally:
        log.close()


def test_guests_through_the_api(booted: tuple[LiveService, Path], events: EventLog) -> None:
    svc, launch = booted
    time.sleep(0.5)  # the stream is open before the run's first event
    started = time.monotonic()
    answer = svc.client.post("/api/vms", json=spec_body("e2e", 2))
    assert answer.status_code == 202, answer.text
    created = answer.json()
    run_id = created["run"]
    names = [g["id"] for g in created["guests"]]
    assert [g["address"] for g in created["guests"]] == ["10.79.0.10", "10.79.0.11"]
    # Busy while being created: neither delete nor stop may touch it.
    assert svc.client.delete(f"/api/vms/{names[0]}").status_code == 409
    record = wait_run(svc, run_id)
    assert record["phase"] == "ready", record
    boot_s = time.monotonic() - started
    phases = [e["phase"] for e in events.events if e["run"] == run_id]
    assert phases[0] == "planned" and phases[-1] == "ready" and "started" in phases, phases
    order = ["planned", "network", "defined", "started", "ready"]
    assert [order.index(p) for p in phases] == sorted(order.index(p) for p in phases)
    vms = svc.client.get("/api/vms", params={"run": run_id}).json()["vms"]
    assert [(v["id"], v["state"]) for v in vms] == [(n, "running") for n in names]

    # The world moves onto the guests: rank 0 here, one rank per guest vCPU.
    started = time.monotonic()
    scaled = svc.client.post("/api/super-vm/scale", json={"nodes": 2}, timeout=900)
    assert scaled.status_code == 200, scaled.text
    scale_s = time.monotonic() - started
    world = scaled.json()["world"]
    assert world["state"] == "idle" and world["ranks"] == 3
    assert [g["address"] for g in world["placement"]["guests"]] == ["10.79.0.10", "10.79.0.11"]
    nodes = {n["id"]: n for n in svc.client.get("/api/nodes").json()["nodes"]}
    assert {n: (nodes[n]["address"], len(nodes[n]["ranks"])) for n in names} == {
        names[0]: ("10.79.0.10", 1), names[1]: ("10.79.0.11", 1)}

    # An input written after the guests booted (they cannot see it): rank 0 hands it over.
    data = np.random.default_rng(7).integers(-(2**40), 2**40, 300_000, dtype=np.int64)
    np.save(svc.state_dir / "data" / "late.npy", data)
    started = time.monotonic()
    task_id = svc.submit({"kind": "sort", "input": {"npy": "late.npy"}, "gather": True})
    task = svc.wait(task_id, deadline_s=600)
    sort_s = time.monotonic() - started
    assert task["state"] == "done", task
    assert task["ranks"] == 3
    got = np.load(io.BytesIO(svc.client.get(f"/api/tasks/{task_id}/result",
                                            params={"format": "npy"}).content))
    np.testing.assert_array_equal(got, np.sort(data))

    # Stop one guest: the world leaves it (2 ranks); start it: the world takes it back.
    stopped = svc.client.post(f"/api/vms/{names[1]}/stop", json={"deadline_s": 20}, timeout=900)
    assert stopped.status_code == 200, stopped.text
    assert svc.client.get(f"/api/vms/{names[1]}").json()["state"] == "shut off"
    assert svc.status()["world"]["ranks"] == 2
    startup = svc.client.post(f"/api/vms/{names[1]}/start", timeout=900)
    assert startup.status_code == 200, startup.text
    assert svc.client.get(f"/api/vms/{names[1]}").json()["state"] == "running"
    deadline = time.monotonic() + 300
    while svc.status()["world"]["state"] != "idle" and time.monotonic() < deadline:
        time.sleep(1)
    assert svc.status()["world"]["ranks"] == 3
    small = svc.submit({"kind": "sum", "input": {"random": {"n": 100_000, "dtype": "int64",
                                                            "seed": 3}}})
    assert svc.wait(small, deadline_s=600)["state"] == "done"

    # Delete one guest, then the run: the world goes back to the host.
    gone = svc.client.delete(f"/api/vms/{names[1]}", timeout=900)
    assert gone.status_code == 200, gone.text
    assert gone.json()["run_removed"] is False
    whole = svc.client.delete("/api/vms", params={"run": run_id}, timeout=900)
    assert whole.status_code == 200, whole.text
    assert svc.client.get(f"/api/vms/{names[0]}").status_code == 404
    deadline = time.monotonic() + 120
    while svc.status()["world"]["state"] != "idle" and time.monotonic() < deadline:
        time.sleep(0.5)
    status = svc.status()["world"]
    assert status["placement"] is None and status["ranks"] == 2
    assert_nothing_left(launch, run_id)
    print(f"boot {boot_s:.1f} s, scale {scale_s:.1f} s, sort in guests {sort_s:.1f} s")
