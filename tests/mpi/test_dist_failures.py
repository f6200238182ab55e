"""A failing or killed rank, or a run past its deadline, ends the whole run within seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from launching import WORKERS, mpirun, supervm_cli

PROMPT = 30.0  # seconds a failed run may take to end, start-up included


def write_job(path: Path, job: dict) -> Path:
    path.write_text(json.dumps(job))
    return path


@pytest.mark.parametrize("mode", ["raise", "kill"])
def test_a_failing_rank_ends_the_run(tmp_path: Path, mode: str) -> None:
    job = write_job(tmp_path / "job.json", {
        "kind": "sort", "method": "presort",
        "input": {"random": {"n": 300_000, "dtype": "int64"}},
    })
    started = time.monotonic()
    done = mpirun(3, [str(WORKERS / "rank_fault.py"), mode, str(job), "--out",
                      str(tmp_path / "run")], timeout=60)
    assert time.monotonic() - started < PROMPT
    assert done.returncode != 0
    if mode == "raise":
        assert "rank 1: RuntimeError: injected failure on purpose" in done.stderr
    else:
        # Hydra reports the signal on its own stdout.
        assert "signal 9" in done.stdout + done.stderr
    assert not (tmp_path / "run" / "result.json").exists()


def test_an_error_on_every_rank_reaches_the_user(tmp_path: Path) -> None:
    job = write_job(tmp_path / "job.json", {"kind": "min", "input": {"values": []}})
    done = supervm_cli(["run", str(job), "--np", "2", "--out", str(tmp_path / "run")],
                       timeout=60)
    assert done.returncode != 0
    assert "ValueError: zero-size array to reduction operation minimum" in done.stderr


def _rank_pids(marker: str) -> list[int]:
    """Return the pids of rank processes whose command line contains `marker`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = [a.decode(errors="replace") for a in argv if a]
        if len(text) > 3 and marker in text and text[1:4] == ["-m", "supervm", "run"] \
                and "--np" not in text:
            pids.append(int(entry.name))
    return pids


def _slow_job(tmp_path: Path) -> Path:
    # About 3 s of generation per rank on this class of machine: long enough to interrupt.
    return write_job(tmp_path / "slow.json", {
        "kind": "sum", "input": {"random": {"n": 240_000_000, "dist": "normal"}},
    })


def test_a_rank_killed_from_outside_ends_the_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "supervm", "run", str(_slow_job(tmp_path)), "--np", "3",
               "--out", str(out), "--timeout", "60"]
    started = time.monotonic()
    launcher = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        deadline = started + 20
        pids: list[int] = []
        while len(pids) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
            pids = _rank_pids(str(out))
        assert len(pids) == 3, "ranks did not start"
        os.kill(pids[1], signal.SIGKILL)
        _, stderr = launcher.communicate(timeout=PROMPT)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert time.monotonic() - started < PROMPT
    assert launcher.returncode != 0
    assert "failed" in stderr
    assert _rank_pids(str(out)) == []


def test_the_deadline_stops_every_rank(tmp_path: Path) -> None:
    out = tmp_path / "run"
    started = time.monotonic()
    done = supervm_cli(["run", str(_slow_job(tmp_path)), "--np", "2", "--out", str(out),
                        "--timeout", "1.5"], timeout=60)
    assert time.monotonic() - started < PROMPT
    assert done.returncode == 124
    assert "--timeout 1.5" in done.stderr
    assert _rank_pids(str(out)) == []


def test_the_deadline_holds_under_a_users_mpiexec(tmp_path: Path) -> None:
    started = time.monotonic()
    done = mpirun(2, ["-m", "supervm", "run", str(_slow_job(tmp_path)), "--timeout", "1",
                      "--out", str(tmp_path / "run")], timeout=60)
    assert time.monotonic() - started < PROMPT
    assert done.returncode != 0
    assert "no result after --timeout 1 s; aborting" in done.stderr
