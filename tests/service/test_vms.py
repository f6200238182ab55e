"""GET /api/vms: the launcher's guests from its saved runs, with libvirt's live state."""

from __future__ import annotations

from pathlib import Path

import libvirt
from conftest import make_client

from supervm.launcher.domain_xml import Domain, KernelBoot, NoBalloon, RunTag
from supervm.launcher.guests import define, remove_domain
from supervm.launcher.state import GuestState, RunState


def test_vms_lists_guests_of_saved_runs(tmp_path: Path) -> None:
    launch = tmp_path / "launch"
    conn = libvirt.open("test:///default")
    name = "svm-00000d01-g0"
    define(conn, Domain(name, 256, 1, "tcg", KernelBoot("/k", "/i", ""), RunTag("00000d01", 0),
                        [NoBalloon()])).create()
    try:
        run = RunState("00000d01", "test:///default", {}, accel="tcg", guests=[
            GuestState(name, "10.77.0.10", "/c", 1, 256),
            GuestState("svm-00000d01-g1", "10.77.0.11", "/c", 1, 256)])
        run.save(launch, "ready")
        with make_client(tmp_path, launch_state_dir=launch) as client:
            vms = client.get("/api/vms").json()["vms"]
            assert [(v["id"], v["address"], v["state"]) for v in vms] == [
                (name, "10.77.0.10", "running"), ("svm-00000d01-g1", "10.77.0.11", "missing")]
            assert vms[0]["run"] == "00000d01" and vms[0]["phase"] == "ready"
            assert client.get(f"/api/vms/{name}").json()["memory_mib"] == 256
            assert client.get("/api/vms/nothing").status_code == 404
    finally:
        remove_domain(conn, name)
        conn.close()


def test_vms_empty_without_runs(tmp_path: Path) -> None:
    with make_client(tmp_path, launch_state_dir=tmp_path / "none") as client:
        assert client.get("/api/vms").json() == {"vms": [], "runs": []}
