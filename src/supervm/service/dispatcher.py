"""One asyncio task that feeds the world the queued tasks, one at a time, oldest first.

The queue is the store itself (tasks in state 'queued', by submission order), so a restart
of the service picks up where it stopped. While a task runs, the next one, if tiny, already
waits in the world's socket (still 'queued' here) so rank 0 goes on without a round trip.
If the world dies under a task, the task fails with the reason and a new world starts;
cancelling a running task ends the world on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from supervm.service.events import EventBus
from supervm.service.metrics import Metrics
from supervm.service.placement import Placement, collect
from supervm.service.store import Store, Task
from supervm.service.world_client import World, WorldDiedError, WorldError
from supervm.world import SOLO_BELOW

#: Seconds a cancel request waits for the running task to be marked cancelled.
CANCEL_DEADLINE_S = 15.0
#: Longest wait between attempts to start a world that keeps failing to start.
_MAX_START_BACKOFF_S = 10.0
#: Seconds a world move waits for the running task to finish (its own timeout bounds it).
DRAIN_DEADLINE_S = 3600.0
#: Worlds a task may fail to reach before it fails (a message no world can take).
_MAX_SEND_FAILURES = 3
#: Report keys not kept in the store (the spec is kept already, and may be large).
_UNSTORED = ("job",)
#: Jobs with fewer input elements than this may be sent ahead (see Dispatcher._send_ahead).
_AHEAD_BELOW = 65_536
#: ... and fewer inline values than this: the message must fit in the socket's buffer, or
#: sending it would wait for rank 0 to finish the running job, and so would that job's
#: deadline, which starts once the sending is done.
_AHEAD_INLINE_BELOW = 4096


def _is_tiny(spec: dict[str, Any]) -> bool:
    """Return whether a job's input is small and its message short."""
    source = spec.get("input") or {}
    if "values" in source:
        return len(source["values"]) < _AHEAD_INLINE_BELOW
    if "random" in source:
        return int(source["random"].get("n", _AHEAD_BELOW)) < _AHEAD_BELOW
    return False


class Dispatcher:
    """Run queued tasks in the world and record every state change."""

    def __init__(self, store: Store, bus: EventBus, metrics: Metrics, *, ranks: int,
                 state_dir: Path, job_timeout_s: float = 3600.0,
                 heartbeat_s: float = 5.0, solo_below: int = SOLO_BELOW,
                 world_factory: Callable[..., World] = World) -> None:
        self.store, self.bus, self.metrics = store, bus, metrics
        self.ranks, self.state_dir = ranks, state_dir
        self.job_timeout_s, self.heartbeat_s = job_timeout_s, heartbeat_s
        self.solo_below, self.world_factory = solo_below, world_factory
        self.world: World | None = None
        self.world_state = "stopped"
        self.world_error: str | None = None
        self.restarts = 0
        self.current: str | None = None
        self._wake = asyncio.Event()
        self._cancelling: set[str] = set()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._ahead: Task | None = None  # sent to the world behind the running task
        self._send_failures: dict[str, int] = {}
        self.placement: Placement | None = None  # None: every rank on this host
        self._remote_dirs: dict[str, Path] = {}  # task -> its outputs in the guests' share
        self._paused = False
        self._parked = asyncio.Event()
        self._resume = asyncio.Event()
        self._moving = asyncio.Lock()

    async def start(self) -> None:
        """Fail the tasks a previous run left running, then start feeding the world."""
        for task_id in self.store.fail_interrupted(
                "the service stopped while the task was running"):
            self.announce(self.store.get(task_id))
        self._loop_task = asyncio.create_task(self._loop(), name="supervm-dispatcher")

    async def close(self) -> None:
        """Stop the loop and the world; a task still running fails with the reason."""
        self._stopping = True
        self._wake.set()
        running = self.current  # the loop forgets it as it is cancelled
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if running is not None:
            self.announce(self.store.fail(running, "the service stopped during the task"))
        if self.world is not None:
            # A busy world would finish its job before reading "stop": end it at once.
            await (self.world.kill() if running is not None else self.world.stop())
        self.world_state = "stopped"

    def notify(self) -> None:
        """Wake the loop: a task was queued."""
        self._wake.set()

    def announce(self, task: Task | None) -> None:
        """Publish a task's new state (and count it if final); None: nothing changed."""
        if task is None:
            return
        if task.final and task.finished_at is not None:
            self.metrics.observe_finish(task.kind, task.state, task.created_at, task.started_at,
                                        task.finished_at)
        self.bus.publish({"id": task.id, "kind": task.kind, "state": task.state,
                          "at": time.time(), "error": task.error})

    async def _loop(self) -> None:
        backoff = 0.5
        while not self._stopping:
            if self._paused and self._ahead is None:
                await self._park()
                continue
            if not await self._ensure_world():
                await self._sleep(backoff)
                backoff = min(_MAX_START_BACKOFF_S, backoff * 2)
                continue
            backoff = 0.5
            task, self._ahead = self._ahead, None
            if task is None:
                task = self.store.next_queued()
                sent = None if task is None else await self._send(task)
                if task is not None and sent is None:
                    continue  # it failed before it could be sent
                if task is not None and not sent:
                    self._count_send_failure(task)
                    continue  # the world went: the task is still queued for the next one
            if task is not None:
                await self._run(task)
                continue
            self._wake.clear()
            if self.store.next_queued() is not None:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.heartbeat_s)
            except asyncio.TimeoutError:
                await self._heartbeat()

    async def _park(self) -> None:
        """Wait, holding no task, until a world move is done."""
        self._parked.set()
        await self._resume.wait()
        self._parked.clear()

    async def move_world(self, change: Callable[[], Awaitable[Placement | None]],
                         drain_deadline_s: float = DRAIN_DEADLINE_S) -> None:
        """Drain, stop the world, run `change` (it returns the new placement), start again.

        No task is lost: queued tasks stay queued, the running one (and one sent ahead)
        finishes first. The new world starts in the loop, as after any restart; a `change`
        that raises leaves the placement as it was.
        """
        async with self._moving:
            self._resume.clear()
            self._paused = True
            self._wake.set()
            try:
                if self._loop_task is not None and not self._loop_task.done():
                    await asyncio.wait_for(self._parked.wait(), drain_deadline_s)
                if self.world is not None:
                    await self.world.stop()
                    self.world = None  # a deliberate stop, not a restart
                self.world_state = "moving"
                self.metrics.world_ranks.set(0)
                self.placement = await change()
            finally:
                self._paused = False
                self._resume.set()
                self._wake.set()

    async def wait_world(self, deadline_s: float) -> bool:
        """Return whether a world is up (idle or busy) within `deadline_s` seconds."""
        end = asyncio.get_running_loop().time() + deadline_s
        while asyncio.get_running_loop().time() < end:
            if self.world is not None and self.world.alive and self.world_state in (
                    "idle", "busy"):
                return True
            if self.world_state == "down":
                return False
            await asyncio.sleep(0.1)
        return False

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _heartbeat(self) -> None:
        """Ping an idle world; end it if it does not answer, so the loop starts a new one."""
        if self.world is None:
            return
        try:
            await self.world.ping()
        except (WorldError, asyncio.TimeoutError) as exc:
            self.world_error = f"heartbeat failed: {exc or 'no answer in time'}"
            await self.world.kill()

    async def _ensure_world(self) -> bool:
        """Return whether a world runs, starting one (a restart if one ran before)."""
        if self.world is not None and self.world.alive:
            return True
        if self.world is not None:
            await self.world.kill()
            self.restarts += 1
            self.metrics.world_restarts.inc()
        self.metrics.world_ranks.set(0)
        self.world_state = "starting"
        extra = {"placement": self.placement} if self.placement is not None else {}
        self.world = self.world_factory(self.ranks, self.state_dir, solo_below=self.solo_below,
                                        **extra)
        try:
            await self.world.start()
        except (WorldError, OSError) as exc:
            self.world_state, self.world_error = "down", str(exc)
            return False
        self.world_state = "idle"
        self.metrics.world_ranks.set(getattr(self.world, "ranks", self.ranks))
        return True

    async def _send(self, task: Task) -> bool | None:
        """Hand a queued task to the world; return False if the world is gone, None if the
        task failed before it could be sent."""
        assert self.world is not None
        message = {"type": "job", "task_id": task.id, "spec": task.spec, "run_dir": task.run_dir}
        if self.placement is not None:
            # Guests cannot see files made after they booted, nor write the host's disk.
            try:
                message["spec"] = await asyncio.to_thread(self.placement.stage, task.spec,
                                                          task.id)
            except Exception as exc:  # any unreadable input fails the task
                self.announce(self.store.fail(task.id, f"cannot hand the job's files to the "
                                                       f"guests: {exc}"))
                return None
            remote = self.placement.task_dir(task.id)
            message["run_dir"] = str(remote)
            self._remote_dirs[task.id] = remote
        try:
            await self.world.send(message)
        except WorldDiedError:
            return False
        self._send_failures.pop(task.id, None)
        return True

    def _count_send_failure(self, task: Task) -> None:
        """Fail a task whose sending ended the world again and again (it would forever)."""
        failures = self._send_failures.get(task.id, 0) + 1
        self._send_failures[task.id] = failures
        if failures >= _MAX_SEND_FAILURES:
            del self._send_failures[task.id]
            self.announce(self.store.fail(task.id, f"the world could not take the task "
                                                   f"({failures} worlds tried)"))

    async def _send_ahead(self) -> None:
        """Send the next queued task now if it is tiny: rank 0 starts it the moment it answers
        for the current one, without a round trip through the service. It stays 'queued' in
        the store until then; if the world dies first it is simply sent again."""
        following = self.store.next_queued()
        if self._paused:
            return  # a world move waits: send nothing more to this world
        if following is not None and _is_tiny(following.spec) and await self._send(following):
            self._ahead = following

    async def _run(self, task: Task) -> None:
        """Wait for a task already sent to the world and record how it ended."""
        assert self.world is not None
        # None: cancelled while it waited in the world's socket; its answer is dropped.
        started = self.store.start(task.id)
        if started is not None:
            self.current, self.world_state = task.id, "busy"
            self.announce(started)
        await self._send_ahead()
        try:
            try:
                answer = await self.world.receive(self.job_timeout_s)
            finally:
                await self._collect(task)  # before the task shows as ended
        except WorldDiedError as exc:
            self._ahead = None  # it never started: still queued, for the next world
            if task.id in self._cancelling:
                ended = self.store.cancel(task.id, "cancelled by request while running; the "
                                          "world was restarted")
            else:
                ended = self.store.fail(task.id, str(exc))
        except asyncio.TimeoutError:
            self._ahead = None
            await self.world.kill()
            ended = self.store.fail(task.id, f"no result within the job timeout of "
                                             f"{self.job_timeout_s:g} s; the world was restarted")
        else:
            if answer.get("task_id") != task.id:  # never expected: start a clean world
                self._ahead = None
                await self.world.kill()
                ended = self.store.fail(task.id, f"the world answered for task "
                                                 f"{answer.get('task_id')!r}; it was restarted")
            elif answer.get("ok"):
                report = answer.get("report") or {}
                ended = self.store.finish(task.id, {k: v for k, v in report.items()
                                                    if k not in _UNSTORED})
            else:
                ended = self.store.fail(task.id, str(answer.get("error", "the job failed")))
        finally:
            self.current = None
            self._cancelling.discard(task.id)
            if self.world_state == "busy":
                self.world_state = "idle"
        self.announce(ended)

    async def _collect(self, task: Task) -> None:
        """Move a task's outputs from the guests' share to its run directory."""
        remote = self._remote_dirs.pop(task.id, None)
        if remote is not None and task.run_dir is not None:
            await asyncio.to_thread(collect, remote, Path(task.run_dir))

    async def cancel(self, task_id: str) -> Task | None:
        """Cancel a queued or running task; return it as it is afterwards (None if unknown)."""
        task = self.store.get(task_id)
        if task is None or task.final:
            return task
        if task.state == "queued":
            cancelled = self.store.cancel(task_id)
            if cancelled is not None:
                self.announce(cancelled)
                return cancelled
        if self.current == task_id and self.world is not None:
            with self.bus.listening(task_id) as changed:
                self._cancelling.add(task_id)
                await self.world.kill()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(changed.wait(), CANCEL_DEADLINE_S)
        return self.store.get(task_id)

    def status(self) -> dict[str, Any]:
        """Return the world's state for the status endpoint."""
        world = self.world
        return {"state": self.world_state,
                "ranks": getattr(world, "ranks", self.ranks),
                "placement": self.placement.describe() if self.placement is not None else None,
                "size": len(world.nodes) if world is not None and world.alive else 0,
                "pid": world.pid if world is not None else None,
                "started_at": world.started_at if world is not None else None,
                "restarts": self.restarts, "current_task": self.current,
                "last_error": self.world_error}
