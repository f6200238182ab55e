"""The service's handle on the persistent MPI world: start it, send it jobs, end it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervm import wire
from supervm.jobs.launch import find_mpiexec, mpi_environment
from supervm.world import SOLO_BELOW

if TYPE_CHECKING:
    from supervm.service.placement import Placement

#: Seconds the world may take from mpiexec to its first message (MPI start-up, imports).
START_DEADLINE_S = 60.0
#: ... when ranks run in guests: Python starts slowly under emulation.
GUEST_START_DEADLINE_S = 240.0
#: Seconds a stopping world gets between SIGTERM and SIGKILL.
STOP_GRACE_S = 3.0
#: Seconds an idle rank 0 may take to read a job message (a large inline job is 16 MiB).
SEND_DEADLINE_S = 60.0


class WorldError(RuntimeError):
    """The world could not start, or stopped answering."""


class WorldDiedError(WorldError):
    """The world exited (or its connection closed) while a request was in flight."""


#: Longest Unix socket path the kernel takes (sun_path is 108 bytes with its NUL).
_MAX_SOCKET_PATH = 107


def _socket_path(state_dir: Path) -> Path:
    """Return the world's socket path: in the state directory, or a private temp one if long."""
    path = state_dir / "world.sock"
    if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
        return path
    return Path(tempfile.mkdtemp(prefix="supervm-")) / "world.sock"  # mode 0700


#: A world log past this size is moved to world.log.1 when the next world starts.
_LOG_ROTATE_BYTES = 16 * 2**20


def _rotate(log: Path) -> None:
    """Keep one previous log: the worlds of a long-lived service would grow it forever."""
    with contextlib.suppress(OSError):
        if log.stat().st_size > _LOG_ROTATE_BYTES:
            log.replace(log.with_name(log.name + ".1"))


class World:
    """One running `mpiexec -n N python -m supervm.world` and the socket to its rank 0."""

    def __init__(self, ranks: int, state_dir: Path, log_path: Path | None = None,
                 solo_below: int = SOLO_BELOW, placement: Placement | None = None) -> None:
        self.placement = placement
        self.ranks = placement.ranks if placement is not None else ranks
        self.solo_below = solo_below
        self.state_dir = state_dir
        self.socket_path = _socket_path(state_dir)
        self.log_path = log_path or state_dir / "world.log"
        self.process: asyncio.subprocess.Process | None = None
        self.nodes: list[dict[str, Any]] = []
        self.started_at: float | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        """Return whether mpiexec still runs and the connection is open."""
        return (self.process is not None and self.process.returncode is None
                and self._writer is not None and not self._writer.is_closing())

    @property
    def pid(self) -> int | None:
        """Return mpiexec's pid (the world's process group), if started."""
        return self.process.pid if self.process is not None else None

    async def start(self, deadline_s: float | None = None) -> None:
        """Start mpiexec and connect to rank 0; raise WorldError naming the stage that stalled."""
        if deadline_s is None:
            deadline_s = START_DEADLINE_S if self.placement is None else GUEST_START_DEADLINE_S
        program = [sys.executable, "-m", "supervm.world", "--socket", str(self.socket_path),
                   "--accept-timeout", str(deadline_s), "--solo-below", str(self.solo_below)]
        env = mpi_environment(self.ranks)
        if self.placement is None:
            command = [find_mpiexec(), "-n", str(self.ranks), *program]
        else:
            command, extra = self.placement.command(find_mpiexec(), program)
            env.update(extra)
        self.socket_path.unlink(missing_ok=True)
        _rotate(self.log_path)
        with open(self.log_path, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                env=env, start_new_session=True)
        deadline = time.monotonic() + deadline_s
        try:
            await self._connect(deadline)
            ready = await asyncio.wait_for(self._receive(), max(0.1, deadline - time.monotonic()))
        except (asyncio.TimeoutError, WorldError, OSError) as exc:
            await self.kill()
            raise WorldError(f"the world did not start: {exc or 'no ready message in time'} "
                             f"(log: {self.log_path})") from None
        if ready.get("type") != "ready":
            await self.kill()
            raise WorldError(f"the world sent {ready.get('type')!r} instead of 'ready'")
        self.nodes = ready.get("nodes", [])
        self.started_at = time.time()

    async def _connect(self, deadline: float) -> None:
        """Connect to rank 0's socket once it listens, or raise at the deadline."""
        assert self.process is not None
        while True:
            if self.process.returncode is not None:
                raise WorldError(f"mpiexec exited with status {self.process.returncode}")
            if self.socket_path.exists():
                try:
                    self._reader, self._writer = await asyncio.open_unix_connection(
                        str(self.socket_path), limit=wire.MAX_MESSAGE)
                    return
                except (ConnectionRefusedError, FileNotFoundError):
                    pass  # bound but not yet listening
            if time.monotonic() > deadline:
                raise WorldError("rank 0 did not open its socket in time")
            await asyncio.sleep(0.02)

    async def _receive(self) -> dict[str, Any]:
        reader = self._reader
        if reader is None:
            raise WorldDiedError("the world's connection is closed")
        try:
            header = await reader.readexactly(wire.HEADER.size)
            body = await reader.readexactly(wire.decode_length(header))
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise WorldDiedError(str(exc)) from None
        return wire.decode_body(body)

    async def _died(self, cause: Exception) -> WorldDiedError:
        """Return the error to raise for a lost world, naming its exit status if it has one."""
        status = await self._wait_exit(5.0)
        return WorldDiedError(self.exit_reason(status) if status is not None
                              else f"the world's connection closed: {cause}")

    async def send(self, message: dict[str, Any], timeout: float = SEND_DEADLINE_S) -> None:
        """Send `message` (rank 0 reads it once done with what it has); raise WorldDiedError,
        ending the world first if it has not taken the message within `timeout` seconds."""
        async with self._lock:
            if not self.alive or self._writer is None:
                raise WorldDiedError(self.exit_reason())
            try:
                self._writer.write(wire.encode(message, plain=True))
                await asyncio.wait_for(self._writer.drain(), timeout)
            except ConnectionError as exc:
                raise await self._died(exc) from None
            except asyncio.TimeoutError:
                await self.kill()
                raise WorldDiedError(f"the world did not take a message within {timeout:g} s; "
                                     "it was ended") from None

    async def receive(self, timeout: float) -> dict[str, Any]:
        """Return the world's next answer; raise WorldDiedError, or asyncio.TimeoutError."""
        try:
            return await asyncio.wait_for(self._receive(), timeout)
        except (WorldDiedError, ConnectionError) as exc:
            raise await self._died(exc) from None

    async def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send `message` and return the answer (nothing else may be in flight)."""
        await self.send(message)
        return await self.receive(timeout)

    async def ping(self, timeout: float = 5.0) -> float:
        """Return the round-trip seconds of a ping; raise WorldDiedError or asyncio.TimeoutError."""
        started = time.perf_counter()
        answer = await self.request({"type": "ping"}, timeout)
        if answer.get("type") != "pong":
            raise WorldError(f"ping answered with {answer.get('type')!r}")
        return time.perf_counter() - started

    def exit_reason(self, status: int | None = None) -> str:
        """Return why the world is gone, in words."""
        if status is None and self.process is not None:
            status = self.process.returncode
        if status is None:
            return "the world is not running"
        if status < 0:
            return f"world exited by signal {-status} during the task"
        return f"world exited with status {status} during the task"

    async def _wait_exit(self, timeout: float) -> int | None:
        if self.process is None:
            return None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            return None

    async def kill(self, grace: float = STOP_GRACE_S) -> None:
        """End the world's process group: SIGTERM, then SIGKILL after `grace` seconds."""
        self._close_connection()
        if self.process is not None and self.process.returncode is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, sig)
                if await self._wait_exit(grace) is not None:
                    break
        if self.socket_path.parent != self.state_dir:  # a private temp dir of our own
            shutil.rmtree(self.socket_path.parent, ignore_errors=True)

    async def stop(self, timeout: float = 5.0) -> None:
        """Ask the world to stop; kill it if it has not within `timeout` seconds."""
        if self.alive and self._writer is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                self._writer.write(wire.encode({"type": "stop"}))
                await asyncio.wait_for(self._writer.drain(), timeout)
            await self._wait_exit(timeout)
        await self.kill()

    def _close_connection(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
