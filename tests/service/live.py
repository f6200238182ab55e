"""A real `supervm serve` on a free loopback port, started and stopped by pid, with deadlines."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

STARTUP_DEADLINE_S = 90.0
STOP_DEADLINE_S = 20.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): look at its state.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return True


def wait_gone(pid: int, deadline_s: float) -> bool:
    """Return whether process `pid` ended within `deadline_s` seconds."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return not _pid_alive(pid)


class LiveService:
    """One `python -m supervm serve` subprocess over a state directory."""

    def __init__(self, state_dir: Path, ranks: int = 2, extra: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.state_dir, self.ranks = state_dir, ranks
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = state_dir.parent / f"serve-{self.port}.log"
        command = [sys.executable, "-m", "supervm", "serve", "--port", str(self.port),
                   "--ranks", str(ranks), "--state-dir", str(state_dir), *(extra or [])]
        # Its own launcher state (guests), unless the test names one: never the machine's.
        launch = {"SUPERVM_LAUNCH_STATE": str(state_dir.parent / "launch")}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, **launch, **(env or {})},
                                            start_new_session=True)
        self.world_pids: set[int] = set()
        self._wait_ready()
        self.token = (state_dir / "token").read_text().strip() if not (env or {}).get(
            "SUPERVM_TOKEN") else env["SUPERVM_TOKEN"]  # type: ignore[index]
        self.client = httpx.Client(base_url=self.url, timeout=30.0,
                                   headers={"Authorization": f"Bearer {self.token}"})

    def _wait_ready(self) -> None:
        end = time.monotonic() + STARTUP_DEADLINE_S
        while time.monotonic() < end:
            if self.process.poll() is not None:
                pytest.fail(f"supervm serve exited with {self.process.returncode}: "
                            f"{self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(f"{self.url}/api/super-vm/status", timeout=2.0).json()
                if answer["world"]["state"] == "idle":
                    self.world_pids.add(answer["world"]["pid"])
                    return
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the service was not ready within {STARTUP_DEADLINE_S} s: "
                    f"{self.log.read_text()[-3000:]}")

    def status(self) -> dict[str, Any]:
        """Return /api/super-vm/status (and remember the world's pid for cleanup)."""
        answer = self.client.get("/api/super-vm/status").json()
        if answer["world"]["pid"]:
            self.world_pids.add(answer["world"]["pid"])
        return answer

    def submit(self, body: dict[str, Any], path: str = "/api/super-vm/process") -> str:
        """Submit to `path` (/process) and return the task id."""
        answer = self.client.post(path, json=body)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    def wait(self, task_id: str, deadline_s: float = 60.0,
             until: tuple[str, ...] = ("done", "failed", "cancelled")) -> dict[str, Any]:
        """Return the task once its state is in `until`; fail the test at the deadline."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            task = self.client.get(f"/api/tasks/{task_id}", params={"wait": 1}).json()
            if task["state"] in until:
                return dict(task)
            if "running" in until:
                time.sleep(0.02)
        pytest.fail(f"task {task_id} not in {until} within {deadline_s} s: {task}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Stop the service by pid (and any world it leaves behind); return its status."""
        with contextlib.suppress(Exception):
            self.status()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_DEADLINE_S)
        for pid in self.world_pids:
            if not wait_gone(pid, 10.0):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.client.close()
        return self.process.returncode


@contextlib.contextmanager
def live_service(state_dir: Path, **kwargs: Any) -> Iterator[LiveService]:
    """Yield a started service; stop it on every exit path."""
    service = LiveService(state_dir, **kwargs)
    try:
        yield service
    finally:
        service.stop()
