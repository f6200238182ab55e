"""Launch helpers for the tests that run under mpiexec: every launch has a deadline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from supervm.jobs.launch import find_mpiexec, mpi_environment

WORKERS = Path(__file__).parent / "workers"
REPO = Path(__file__).parents[2]


def mpirun(ranks: int, args: Sequence[str], *, timeout: float = 120,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python args...` as `ranks` ranks; fail the test if it outlives `timeout`."""
    command = [find_mpiexec(), "-n", str(ranks), sys.executable, *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=mpi_environment(ranks), cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(command)} still running after {timeout} s: {exc.stderr!r}")


def supervm_cli(args: Sequence[str], *, timeout: float = 120,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m supervm args...` as a user would from a shell, with a deadline."""
    command = [sys.executable, "-m", "supervm", *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(command)} still running after {timeout} s: {exc.stderr!r}")
