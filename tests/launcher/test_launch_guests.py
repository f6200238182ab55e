"""End to end with real guests under TCG: up, a distributed sort in the guests, down; a fault.

These start their own libvirtd (and virtlogd) and stop them by pid. They boot two guests, so
each takes about a minute on two cores; they run in `make test` (marker `guests`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import libvirt
import numpy as np
import pytest
from real_guests import assert_sorted_by_ranks, launch, processes_of, why_guests_cannot_boot

from supervm.launcher.guests import QEMU_LOG_DIR, tagged_domains
from supervm.launcher.state import RunState, bridge_name

pytestmark = [pytest.mark.guests, pytest.mark.timeout(900)]

REPO = Path(__file__).parents[2]
SPEC = REPO / "launch" / "two-tcg.toml"

libvirt.registerErrorHandler(lambda *_: None, None)


if why_guests_cannot_boot():
    pytest.skip(why_guests_cannot_boot() or "", allow_module_level=True)


def assert_nothing_left(state: Path, run: RunState) -> None:
    """No domain, bridge, file or QEMU process of `run` remains."""
    conn = libvirt.open(run.uri)
    try:
        left = [n for n, tag in tagged_domains(conn).items() if tag.run_id == run.run_id]
    finally:
        conn.close()
    assert left == []
    assert not Path("/sys/class/net", bridge_name(run.run_id)).exists()
    assert not run.run_dir(state).exists()
    assert not [p for p in QEMU_LOG_DIR.glob(f"svm-{run.run_id}-*")]
    assert processes_of(run.run_id) == []


def test_sort_in_two_guests(libvirtd: object, tmp_path: Path) -> None:
    state = tmp_path / "state"
    data = np.random.default_rng(11).integers(-(2**62), 2**62, 1_000_000, dtype=np.int64)
    np.save(tmp_path / "data.npy", data)
    (tmp_path / "job.json").write_text(json.dumps(
        {"kind": "sort", "input": {"npy": str(tmp_path / "data.npy")}}))
    started = time.monotonic()
    up = launch(state, "up", str(SPEC), "--deadline", "240")
    assert up.returncode == 0, up.stderr
    run_id = up.stdout.strip()
    run = RunState.load(state, run_id)
    try:
        assert run.phase == "ready" and len(run.guests) == 2
        print(f"up to ready: {run.timings['up_to_ready_s']:.1f} s "
              f"(wall {time.monotonic() - started:.1f} s)")
        status = launch(state, "status", "--json")
        rows = json.loads(status.stdout)
        assert [g["state"] for g in rows[0]["guests"]] == ["running", "running"]
        done = launch(state, "run", "--run", run_id, "--job", str(tmp_path / "job.json"),
                      "--timeout", "300")
        assert done.returncode == 0, done.stderr
        out = assert_sorted_by_ranks(done, data, 2)
        result = json.loads((out / "result.json").read_text())
        assert result["ranks"] == 2
    finally:
        down = launch(state, "down", run_id)
    assert down.returncode == 0, down.stderr
    assert_nothing_left(state, run)


def test_guest_killed_mid_run(libvirtd: object, tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = launch(state, "up", str(SPEC), "--deadline", "240")
    assert up.returncode == 0, up.stderr
    run = RunState.load(state, up.stdout.strip())
    victim = run.guests[1].name
    program = ("from mpi4py import MPI; import time; MPI.COMM_WORLD.Barrier(); "
               "print('ranks started', flush=True); time.sleep(600)")
    command = [sys.executable, "-m", "supervm.launcher", "--state-dir", str(state), "run",
               "--run", run.run_id, "--timeout", "400", "--", sys.executable, "-c", program]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as job:
        try:
            assert job.stdout is not None
            line = job.stdout.readline()  # until the ranks print; the run's timeout bounds it
            assert "ranks started" in line
            conn = libvirt.open(run.uri)
            try:
                conn.lookupByName(victim).destroy()
            finally:
                conn.close()
            _, err = job.communicate(timeout=120)
            assert job.returncode != 0
            assert f"guest {victim}" in err and "lost" in err, err
        finally:
            if job.poll() is None:
                job.terminate()  # the CLI stops its mpiexec on SIGTERM
                job.communicate(timeout=60)
            down = launch(state, "down", run.run_id)
    assert down.returncode == 0, down.stderr
    assert_nothing_left(state, run)


def _up_until_started(state: Path) -> tuple[subprocess.Popen[bytes], RunState]:
    """Start `up` and return once its guests are started (state phase 'started')."""
    up = subprocess.Popen([sys.executable, "-m", "supervm.launcher", "--state-dir", str(state),
                           "up", str(SPEC)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + 120
    while time.monotonic() < end and up.poll() is None:
        for path in (state / "runs").glob("*/state.json") if (state / "runs").is_dir() else []:
            try:
                run = RunState.load(state, path.parent.name)
            except (ValueError, OSError):
                continue  # being replaced right now
            if run.phase == "started":
                return up, run
        time.sleep(0.2)
    up.kill()
    up.communicate(timeout=30)
    pytest.fail("`up` never reached the 'started' phase")


def test_sigterm_during_up_undoes_everything(libvirtd: object, tmp_path: Path) -> None:
    state = tmp_path / "state"
    up, run = _up_until_started(state)
    up.terminate()
    _, err = up.communicate(timeout=120)
    assert up.returncode == 130, err
    assert b"stopped by SIGTERM" in err and b"removed" in err
    assert_nothing_left(state, run)


def test_gc_after_a_crashed_up(libvirtd: object, tmp_path: Path) -> None:
    state = tmp_path / "state"
    up, run = _up_until_started(state)
    up.kill()  # no undo runs: domains, bridge and files stay behind
    up.communicate(timeout=60)
    assert Path("/sys/class/net", run.bridge).exists()
    gc = launch(state, "gc")
    assert gc.returncode == 0, gc.stderr
    assert f"run {run.run_id}" in gc.stdout
    assert_nothing_left(state, run)


def test_ephemeral_run_keeps_results_and_leaves_nothing(libvirtd: object,
                                                        tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "results"
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"kind": "sum", "input": {"random": {
        "n": 100_000, "dtype": "int64", "dist": "uniform", "seed": 5}}}))
    started = time.monotonic()
    done = launch(state, "run", "--ephemeral", str(SPEC), "--job", str(job), "--out", str(out))
    assert done.returncode == 0, done.stderr
    print(f"ephemeral run: {time.monotonic() - started:.1f} s")
    result = json.loads((out / "result.json").read_text())
    assert result["ranks"] == 2 and result["n"] == 100_000
    assert "cleaned up" in done.stderr
    assert not (state / "runs").exists() or not any((state / "runs").iterdir())
    run_id = done.stderr.split("(run ")[1].split(")")[0]
    assert not Path("/sys/class/net", bridge_name(run_id)).exists()
    assert processes_of(run_id) == []
