"""The CLI's error paths: one line naming the problem, a non-zero status, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervm.launcher.cli import main


def test_bad_spec_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('[[hosts]]\naccel = "xen"\nguests = 0\n')
    assert main(["--state-dir", str(tmp_path), "up", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "hosts.0.accel" in err and "hosts.0.guests" in err
    assert "Traceback" not in err


def test_run_without_a_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = tmp_path / "job.json"
    job.write_text('{"kind": "sum", "input": {"values": [1, 2]}}')
    assert main(["--state-dir", str(tmp_path), "run", "--job", str(job)]) == 1
    assert "no runs under" in capsys.readouterr().err
    assert main(["--state-dir", str(tmp_path), "run"]) == 1
    assert "--job FILE or a command" in capsys.readouterr().err


def test_status_and_down_with_nothing(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--state-dir", str(tmp_path), "status"]) == 0
    assert "no runs" in capsys.readouterr().out
    assert main(["--state-dir", str(tmp_path), "down", "deadbeef"]) == 1
    assert "no run deadbeef" in capsys.readouterr().err
