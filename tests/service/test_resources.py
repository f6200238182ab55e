"""Resources: GPUs through nvidia-smi only where it exists, this host's CPU and memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervm.service.resources import gpus, local_host


def _fake_nvidia_smi(directory: Path, body: str) -> None:
    tool = directory / "nvidia-smi"
    tool.write_text(f"#!/bin/sh\n{body}\n")
    tool.chmod(0o755)


def test_gpus_from_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_nvidia_smi(tmp_path, 'echo "0, NVIDIA H200, 143771, 5, 3"\necho "garbage"')
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpus() == [{"index": 0, "name": "NVIDIA H200",
                       "memory_total_bytes": 143771 * 2**20, "memory_used_bytes": 5 * 2**20,
                       "utilization_percent": 3.0}]


def test_no_or_failing_nvidia_smi_means_no_gpus(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpus() == []
    _fake_nvidia_smi(tmp_path, "echo 'NVIDIA-SMI has failed' >&2; exit 9")
    assert gpus() == []


def test_local_host_reports_cpu_and_memory() -> None:
    host = local_host()
    assert host["cpu"]["count"] >= 1 and 0 <= host["cpu"]["percent"] <= 100
    assert 0 < host["memory"]["available_bytes"] <= host["memory"]["total_bytes"]
