"""The VM Manager against a REAL guest created through the API (marker `guests`): listed with
its state and resources, stopped, started and deleted from the page; a bad spec's error.

One module-scoped boot of one TCG guest (1 vCPU, 1024 MiB) on 10.79.0.0/24.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import DESKTOP, WAIT_MS, open_page, shot
from live import LiveService, live_service
from real_guests import libvirtd_running, why_guests_cannot_boot

sys.path.insert(0, str(Path(__file__).parents[1] / "service"))
from guest_support import assert_nothing_left, cleanup_runs, spec_body, wait_run

pytestmark = [pytest.mark.guests, pytest.mark.timeout(900)]

#: Seconds a start from the page may take (a TCG boot, then the readiness stages).
BOOT_MS = 240_000


@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveService, str, Path]]:
    """Yield a live service, the id of one ready guest made through POST /api/vms, and the
    launcher state directory; take everything down afterwards."""
    reason = why_guests_cannot_boot()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("vm-manager")
    launch = root / "launch"
    with libvirtd_running(root / "libvirtd-log"), live_service(
            root / "state", ranks=2, env={"SUPERVM_LAUNCH_STATE": str(launch)}) as svc:
        try:
            answer = svc.client.post("/api/vms", json=spec_body("browser", 1))
            assert answer.status_code == 202, answer.text
            run_id = answer.json()["run"]
            record = wait_run(svc, run_id)
            assert record["phase"] == "ready", record
            yield svc, answer.json()["guests"][0]["id"], launch
        finally:
            svc.stop()
            cleanup_runs(launch)


def test_a_real_guest_is_listed_stopped_started_and_deleted(browser: Any, guest: Any) -> None:
    svc, vm_id, launch = guest
    run_id = vm_id.split("-")[1]
    row = f"#vm-list tr[data-vm='{vm_id}']"
    with open_page(browser, svc, svc.token, DESKTOP, "#/vms") as (page, console):
        page.on("dialog", lambda dialog: dialog.accept())  # the delete confirmation
        page.wait_for_selector(f"{row}[data-state='running']", timeout=WAIT_MS)
        text = page.inner_text(row)
        assert "10.79.0.10" in text and "1.0 GiB" in text and "tcg" in text
        shot(page, "vms-real-guest", full_page=True)
        shot(page, "dashboard-vms")  # docs/images/dashboard-vms.png is a copy of this one

        page.click(f"{row} button[data-action=stop]")
        page.wait_for_selector(f"{row}[data-state='shut off']", timeout=WAIT_MS)
        assert svc.client.get(f"/api/vms/{vm_id}").json()["state"] == "shut off"
        page.click(f"{row} button[data-action=start]")
        page.wait_for_selector(f"{row}[data-state='running']", timeout=BOOT_MS)
        assert "start: done" in page.inner_text("#vm-msg")
        shot(page, "vms-real-guest-restarted", full_page=True)

        page.click(f"{row} button[data-action=delete]")
        page.wait_for_selector("#vm-list p.notice:text('No guests.')", timeout=WAIT_MS)
        assert svc.client.get(f"/api/vms/{vm_id}").status_code == 404
        assert console.unexpected() == []
    assert_nothing_left(launch, run_id)


def test_a_bad_spec_shows_the_error(browser: Any, guest: Any) -> None:
    svc, _, _ = guest
    # The module's guest may still stand (this test run alone): compare with what was there.
    runs_before = svc.client.get("/api/vms").json()["runs"]
    with open_page(browser, svc, svc.token, DESKTOP, "#/vms") as (page, console):
        page.wait_for_selector("#vm-create", timeout=WAIT_MS)
        page.fill("#vm-create input[name=subnet]", "10.79.1.0/30")
        page.click("#vm-create-submit")
        error = page.wait_for_selector("#vm-create-error:not([hidden])", timeout=WAIT_MS)
        assert "network.subnet" in error.inner_text() and "Cannot create" in error.inner_text()
        page.fill("#vm-create input[name=subnet]", "10.79.1.0/24")
        page.fill("#vm-spec-name", "no-such-spec")
        page.click("#vm-create-submit")
        page.wait_for_selector("#vm-create-error:has-text('no spec')", timeout=WAIT_MS)
        shot(page, "vms-bad-spec", full_page=True)
        # Chromium logs each refused POST as a failed load; nothing else may be logged.
        assert console.unexpected(("422",)) == []
        runs_after = svc.client.get("/api/vms").json()["runs"]
        assert [r["run"] for r in runs_after] == [r["run"] for r in runs_before]  # none made
