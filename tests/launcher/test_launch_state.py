"""Run state, `down` and `gc` on libvirt's test driver (no daemon, no real guests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import libvirt

from supervm.launcher import cluster
from supervm.launcher.domain_xml import Domain, KernelBoot, NoBalloon, RunTag
from supervm.launcher.guests import define, tagged_domains
from supervm.launcher.state import GuestState, RunState, domain_name, list_runs

URI = "test:///default"


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _tagged(conn: libvirt.virConnect, run_id: str, index: int) -> str:
    name = domain_name(run_id, index)
    dom = define(conn, Domain(name, 256, 1, "tcg", KernelBoot("/k", "/i", ""),
                              RunTag(run_id, index), [NoBalloon()]))
    dom.create()
    return name


def _state(state_dir: Path, run_id: str, phase: str, pid: int, names: list[str]) -> RunState:
    run = RunState(run_id, URI, {}, pid=pid,
                   guests=[GuestState(n, "10.0.0.1", "/c", 1, 256) for n in names])
    run.save(state_dir, phase)
    return run


def test_state_round_trip(tmp_path: Path) -> None:
    run = _state(tmp_path, "00000001", "ready", 1, ["svm-00000001-g0"])
    again = RunState.load(tmp_path, "00000001")
    assert again == run
    assert list_runs(tmp_path) == ["00000001"]
    assert not list((tmp_path / "runs" / "00000001").glob("*.tmp"))


def test_down_removes_domains_and_files(tmp_path: Path) -> None:
    conn = libvirt.open(URI)
    try:
        names = [_tagged(conn, "0000000a", i) for i in range(2)]
        stray = _tagged(conn, "0000000a", 7)  # defined, then a crash before the state save
        run = _state(tmp_path, "0000000a", "ready", 1, names)
        assert cluster.down(run, tmp_path) == []
        left = tagged_domains(conn)
        assert not any(n in left for n in [*names, stray])
        assert not run.run_dir(tmp_path).exists()
    finally:
        conn.close()


def test_gc_keeps_live_runs_and_collects_gone_ones(tmp_path: Path) -> None:
    conn = libvirt.open(URI)
    try:
        live = _tagged(conn, "000000b1", 0)
        _state(tmp_path, "000000b1", "ready", _dead_pid(), [live])  # up exited: still live
        crashed = _tagged(conn, "000000b2", 0)
        _state(tmp_path, "000000b2", "defined", _dead_pid(), [crashed])  # died mid-up
        orphan = _tagged(conn, "000000b3", 0)  # no state at all
        removed = cluster.gc(tmp_path, URI)
        left = tagged_domains(conn)
        assert live in left
        assert crashed not in left and orphan not in left
        assert "run 000000b2" in removed and f"domain {orphan}" in removed
        assert list_runs(tmp_path) == ["000000b1"]
        assert cluster.gc(tmp_path, URI) == []
        cluster.down(RunState.load(tmp_path, "000000b1"), tmp_path)
        assert live not in tagged_domains(conn)
    finally:
        conn.close()


def test_accel_auto_uses_the_cached_verdict(tmp_path: Path) -> None:
    from supervm.launcher import accel

    assert accel.resolve("tcg", tmp_path, URI, "/k", "/i") == "tcg"
    (tmp_path / accel.VERDICT).write_text("tcg\n")
    # With a verdict cached no probe runs (a probe on the test driver would "boot" at once).
    assert accel.resolve("auto", tmp_path, URI, "/k", "/i") == "tcg"
    (tmp_path / accel.VERDICT).write_text("kvm\n")
    assert accel.resolve("auto", tmp_path, URI, "/k", "/i") == "kvm"


def test_accel_probe_gives_tcg_when_no_boot_is_seen(tmp_path: Path) -> None:
    from supervm.launcher import accel

    conn = libvirt.open(URI)
    try:
        # The test driver "runs" the domain but no console ever shows init: verdict tcg.
        assert not accel.boots(conn, "/k", "/i", deadline_s=0.5)
        assert tagged_domains(conn) == {} or all(
            not n.endswith("-probe") for n in tagged_domains(conn))
    finally:
        conn.close()


def test_readiness_names_the_stalled_stage_and_shows_the_console(tmp_path: Path) -> None:
    import pytest

    from supervm.launcher.guests import ReadinessError, wait_ready

    conn = libvirt.open(URI)
    try:
        name = _tagged(conn, "000000c1", 0)  # "running" on the test driver, never boots
        console = tmp_path / "console.log"
        console.write_text("[    1.0] Linux version\n[    2.0] stuck in early boot\n")
        guest = GuestState(name, "10.77.0.10", str(console), 1, 256)
        with pytest.raises(ReadinessError) as caught:
            wait_ready(conn, [guest], "127.0.0.1", deadline_s=0.5)
        message = str(caught.value)
        assert name in message and "stage 'console marker'" in message
        assert "stuck in early boot" in message
        conn.lookupByName(name).destroy()
        with pytest.raises(ReadinessError, match="stopped while booting"):
            wait_ready(conn, [guest], "127.0.0.1", deadline_s=5)
    finally:
        conn.lookupByName(name).undefine()
        conn.close()
