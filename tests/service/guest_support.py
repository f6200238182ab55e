"""Helpers of the tests that boot real guests through the service (subnet 10.79.0.0/24)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from live import LiveService
from real_guests import processes_of

#: The subnet these tests own (other suites use 10.77/10.78): never used elsewhere at once.
SUBNET = "10.79.0.0/24"
#: Seconds guests may take from POST /api/vms to ready under TCG on two busy cores.
BOOT_DEADLINE_S = 300.0


def spec_body(name: str, guests: int) -> dict[str, Any]:
    """Return an inline cluster spec of `guests` small TCG guests on the tests' subnet."""
    return {"name": name, "kind": "hostfs",
            "hosts": [{"uri": "qemu:///system", "guests": guests, "vcpus": 1,
                       "memory_mib": 1024, "accel": "tcg"}],
            "network": {"subnet": SUBNET}}


def wait_run(svc: LiveService, run_id: str, phases: tuple[str, ...] = ("ready", "failed"),
             deadline_s: float = BOOT_DEADLINE_S) -> dict[str, Any]:
    """Return the run's record from GET /api/vms once its phase is in `phases`."""
    end = time.monotonic() + deadline_s
    record: dict[str, Any] = {}
    while time.monotonic() < end:
        runs = svc.client.get("/api/vms", params={"run": run_id}).json()["runs"]
        record = runs[0] if runs else {}
        if record.get("phase") in phases:
            return record
        time.sleep(1.0)
    pytest.fail(f"run {run_id} not in {phases} within {deadline_s} s: {record}")


def assert_nothing_left(launch: Path, run_id: str) -> None:
    """No domain, bridge, file, log or process of the run remains."""
    import libvirt

    from supervm.launcher.guests import QEMU_LOG_DIR, tagged_domains
    from supervm.launcher.state import bridge_name

    conn = libvirt.open("qemu:///system")
    try:
        left = [n for n, tag in tagged_domains(conn).items() if tag.run_id == run_id]
    finally:
        conn.close()
    assert left == []
    assert not Path("/sys/class/net", bridge_name(run_id)).exists()
    assert not (launch / "runs" / run_id).exists()
    assert list(QEMU_LOG_DIR.glob(f"svm-{run_id}-*")) == []
    assert processes_of(run_id) == []


def cleanup_runs(launch: Path) -> None:
    """Take down whatever runs a failed test left (by their saved state)."""
    from supervm.launcher import cluster
    from supervm.launcher.state import RunState, list_runs

    for run_id in list_runs(launch):
        cluster.down(RunState.load(launch, run_id), launch)
