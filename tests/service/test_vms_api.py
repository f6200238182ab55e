"""The guest endpoints' validation and error paths: fakes for `up`, test:///default domains."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import libvirt
import pytest
from conftest import TOKEN, make_client

from supervm.launcher import cluster
from supervm.launcher.domain_xml import Domain, KernelBoot, NoBalloon, RunTag
from supervm.launcher.guests import ReadinessError, define
from supervm.launcher.spec import ClusterSpec
from supervm.launcher.state import GuestState, RunState

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPEC = {"name": "unit", "hosts": [{"uri": "qemu:///system", "guests": 2, "vcpus": 1,
                                   "memory_mib": 512, "accel": "tcg"}],
        "network": {"subnet": "10.79.5.0/24"}}


def _client(tmp_path: Path) -> Any:
    specs = tmp_path / "specs"
    specs.mkdir(exist_ok=True)
    (specs / "small.toml").write_text('name = "small"\n[[hosts]]\nguests = 1\naccel = "tcg"\n'
                                      '[network]\nsubnet = "10.79.6.0/24"\n')
    (specs / "broken.toml").write_text('name = "Bad Name"\n')
    return make_client(tmp_path, launch_state_dir=tmp_path / "launch", spec_dir=specs)


def _fields(answer: Any) -> list[str]:
    return [item["field"] for item in answer.json().get("detail", [])]


def _wait_phase(client: Any, run_id: str, phase: str, deadline_s: float = 10.0) -> dict[str, Any]:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        runs = client.get("/api/vms", params={"run": run_id}).json()["runs"]
        if runs and runs[0].get("phase") == phase:
            return dict(runs[0])
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {phase}: {runs}")


@pytest.mark.parametrize(("body", "status", "fields"), [
    ([1, 2], 400, []),
    ({"hosts": [{"vcpus": 0, "memory_mib": 10}]}, 422, ["hosts.0.vcpus", "hosts.0.memory_mib"]),
    ({"network": {"subnet": "10.0.0.0/30"}}, 422, ["network.subnet"]),
    ({"kind": "floppy", "colour": "red"}, 422, ["kind", "colour"]),
    ({"spec": "../etc/passwd"}, 422, ["spec"]),
    ({"spec": "nothing-here"}, 422, ["spec"]),
    ({"spec": "broken"}, 422, ["spec.name"]),
])
def test_create_refuses_bad_specs_naming_each_field(tmp_path: Path, body: Any, status: int,
                                                    fields: list[str]) -> None:
    with _client(tmp_path) as client:
        answer = client.post("/api/vms", json=body, headers=AUTH)
        assert answer.status_code == status, answer.text
        assert _fields(answer) == fields
        if body == {"spec": "nothing-here"}:
            assert "small" in answer.json()["detail"][0]["message"]  # says which exist


def test_create_needs_the_token(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        assert client.post("/api/vms", json=SPEC).status_code == 401


def _fake_up(seen: list[ClusterSpec], fail: str | None = None, hold_s: float = 0.6) -> Any:
    """A stand-in for cluster.up: saves the phases a real one saves; may fail at the end."""
    def up(spec: ClusterSpec, state_dir: Path, deadline_s: float, run_id: str,
           log: object) -> RunState:
        seen.append(spec)
        run = RunState(run_id, "test:///default", spec.model_dump(), accel="tcg",
                       host_address=spec.network.host_ip())
        run.save(state_dir, "planned")
        run.guests = [GuestState(f"svm-{run_id}-g{i}", ip, "/c", 1, 512)
                      for i, ip in enumerate(spec.network.guest_ips(spec.guest_count()))]
        run.save(state_dir, "started")
        time.sleep(hold_s)
        if fail:
            cluster.shutil.rmtree(run.run_dir(state_dir))  # what the undo stack does
            raise ReadinessError(fail)
        run.save(state_dir, "ready")
        return run
    return up


def test_create_answers_202_at_once_and_publishes_progress(tmp_path: Path,
                                                           monkeypatch: Any) -> None:
    seen: list[ClusterSpec] = []
    monkeypatch.setattr(cluster, "up", _fake_up(seen))
    with _client(tmp_path) as client:
        started = time.monotonic()
        answer = client.post("/api/vms", json=SPEC, headers=AUTH)
        assert answer.status_code == 202, answer.text
        assert time.monotonic() - started < 0.5  # did not wait for `up`
        body = answer.json()
        run_id, names = body["run"], [g["id"] for g in body["guests"]]
        assert answer.headers["location"] == f"/api/vms?run={run_id}"
        assert [g["address"] for g in body["guests"]] == ["10.79.5.10", "10.79.5.11"]
        assert client.delete(f"/api/vms/{names[0]}", headers=AUTH).status_code == 409
        assert client.post(f"/api/vms/{names[0]}/stop", headers=AUTH).status_code == 409
        clash = client.post("/api/vms", json={**SPEC, "name": "other"}, headers=AUTH)
        assert clash.status_code == 409 and _fields(clash) == ["network.subnet"]
        _wait_phase(client, run_id, "started")
        record = _wait_phase(client, run_id, "ready")
        assert record["guests"] == 2
        assert seen[0].hosts[0].memory_mib == 512
        vms = client.get("/api/vms", params={"run": run_id}).json()["vms"]
        assert [v["id"] for v in vms] == names and all(v["busy"] is None for v in vms)
        for name in names:  # the last one takes the run, and its record, away
            assert client.delete(f"/api/vms/{name}", headers=AUTH).status_code == 200
        assert client.get("/api/vms").json() == {"vms": [], "runs": []}


def test_a_failed_creation_shows_its_stage_and_console(tmp_path: Path, monkeypatch: Any) -> None:
    reason = ("guest svm-x-g0 (10.79.6.10) not ready after 5 s: stalled at stage 'agent ping'; "
              "console tail (/c):\nKernel panic - not syncing")
    monkeypatch.setattr(cluster, "up", _fake_up([], fail=reason, hold_s=0.3))
    with _client(tmp_path) as client:
        answer = client.post("/api/vms", json={"spec": "small"}, headers=AUTH)
        assert answer.status_code == 202, answer.text
        run_id = answer.json()["run"]
        record = _wait_phase(client, run_id, "failed")
        assert record["stage"] == "started"
        assert "stalled at stage 'agent ping'" in record["error"]
        assert record["console_tail"] == "Kernel panic - not syncing"
        # A failed creation is forgotten by deleting its run.
        assert client.delete("/api/vms", params={"run": run_id}, headers=AUTH).status_code == 200
        assert client.get("/api/vms", params={"run": run_id}).json()["runs"] == []


def test_unknown_ids_and_bad_requests(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        assert client.delete("/api/vms/svm-nope-g0", headers=AUTH).status_code == 404
        assert client.post("/api/vms/svm-nope-g0/start", headers=AUTH).status_code == 404
        assert client.post("/api/vms/svm-nope-g0/stop", headers=AUTH).status_code == 404
        missing = client.delete("/api/vms", headers=AUTH)
        assert missing.status_code == 422 and _fields(missing) == ["query.run"]
        assert client.delete("/api/vms", params={"run": "nope"}, headers=AUTH).status_code == 404
        bad = client.post("/api/vms/svm-nope-g0/stop", json={"deadline_s": -1, "x": 1},
                          headers=AUTH)
        assert bad.status_code == 422 and _fields(bad) == ["x", "deadline_s"]


@pytest.mark.parametrize(("body", "status", "fields"), [
    ({"nodes": -1}, 422, ["nodes"]),
    ({"nodes": "2"}, 422, ["nodes"]),
    ({"nodes": 2, "extra": 1}, 422, ["extra"]),
    ({"nodes": 1, "deadline_s": 0}, 422, ["deadline_s"]),
    ({}, 422, ["nodes"]),
    ([2], 400, []),
    ({"nodes": 2}, 409, ["spec"]),  # no run of guests, and no spec to make one
    ({"nodes": 1, "spec": {"hosts": []}}, 422, ["hosts"]),
    ({"nodes": 1, "spec": "nothing-here"}, 422, ["spec"]),
])
def test_scale_validation(tmp_path: Path, body: Any, status: int, fields: list[str]) -> None:
    with _client(tmp_path) as client:
        answer = client.post("/api/super-vm/scale", json=body, headers=AUTH)
        assert answer.status_code == status, answer.text
        assert _fields(answer) == fields


def _test_run(launch: Path, run_id: str, count: int) -> tuple[libvirt.virConnect, RunState]:
    """Define and start `count` domains on test:///default and save a ready run of them."""
    conn = libvirt.open("test:///default")
    guests = []
    for i in range(count):
        name = f"svm-{run_id}-g{i}"
        define(conn, Domain(name, 256, 1, "tcg", KernelBoot("/k", "/i", ""),
                            RunTag(run_id, i), [NoBalloon()])).create()
        guests.append(GuestState(name, f"10.79.7.{10 + i}", str(launch / f"c{i}"), 1, 256,
                                 "ready"))
    run = RunState(run_id, "test:///default", {}, accel="tcg", guests=guests,
                   host_address="10.79.7.1")
    run.save(launch, "ready")
    return conn, run


def test_stop_then_delete_guests_of_a_run(tmp_path: Path) -> None:
    launch = tmp_path / "launch"
    conn, run = _test_run(launch, "0000aa01", 2)
    try:
        with _client(tmp_path) as client:
            g0, g1 = (g.name for g in run.guests)
            stopped = client.post(f"/api/vms/{g1}/stop", json={"deadline_s": 1}, headers=AUTH)
            assert stopped.status_code == 200, stopped.text
            assert stopped.json()["how"].startswith("destroyed")  # no guest agent here
            assert client.get(f"/api/vms/{g1}").json()["state"] == "shut off"
            assert RunState.load(launch, run.run_id).guests[1].state == "stopped"
            nodes = {n["id"]: n for n in client.get("/api/nodes").json()["nodes"]}
            assert nodes[g0]["kind"] == "guest" and nodes[g0]["address"] == "10.79.7.10"
            assert nodes[g0]["ranks"] == [] and nodes[g0]["vcpus"] == 1
            one = client.delete(f"/api/vms/{g1}", headers=AUTH)
            assert one.status_code == 200 and one.json()["run_removed"] is False
            assert [g.name for g in RunState.load(launch, run.run_id).guests] == [g0]
            last = client.delete(f"/api/vms/{g0}", headers=AUTH)
            assert last.status_code == 200 and last.json()["run_removed"] is True
            assert not run.run_dir(launch).exists()
            assert [d.name() for d in conn.listAllDomains()
                    if d.name().startswith("svm-0000aa01")] == []
    finally:
        for dom in conn.listAllDomains():
            if dom.name().startswith("svm-0000aa01"):
                dom.destroy()
                dom.undefine()
        conn.close()


def test_delete_a_whole_run(tmp_path: Path) -> None:
    launch = tmp_path / "launch"
    conn, run = _test_run(launch, "0000aa02", 2)
    try:
        with _client(tmp_path) as client:
            answer = client.delete("/api/vms", params={"run": run.run_id}, headers=AUTH)
            assert answer.status_code == 200, answer.text
            assert answer.json()["guests"] == [g.name for g in run.guests]
            assert client.get("/api/vms").json()["vms"] == []
    finally:
        conn.close()


def test_the_api_examples_are_valid_requests() -> None:
    from supervm.launcher.spec import load_spec, parse_spec
    from supervm.service.models import NamedSpec, ScaleRequest, StopRequest

    examples = Path(__file__).parents[2] / "api" / "examples"
    import json

    parse_spec(json.loads((examples / "vms-inline-spec.json").read_text()))
    named = NamedSpec.model_validate_json((examples / "vms-named-spec.json").read_text())
    load_spec(Path(__file__).parents[2] / "launch" / f"{named.spec}.toml")
    ScaleRequest.model_validate_json((examples / "scale-seed.json").read_text())
    StopRequest.model_validate_json((examples / "vms-stop.json").read_text())
