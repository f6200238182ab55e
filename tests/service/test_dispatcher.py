"""The dispatcher against a stand-in world: order, sending ahead, cancelling, a lost world."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from supervm.service.dispatcher import Dispatcher
from supervm.service.events import EventBus
from supervm.service.metrics import Metrics
from supervm.service.store import Store
from supervm.service.world_client import WorldDiedError

TINY = {"kind": "sum", "input": {"values": [1, 2]}}


class FakeWorld:
    """Answers each job when the test releases it; can die on request."""

    started = 0

    def __init__(self, ranks: int, state_dir: Path, solo_below: int = 0) -> None:
        self.sent: list[dict[str, Any]] = []
        self.releases: asyncio.Queue[str] = asyncio.Queue()
        self.alive, self.nodes, self.pid, self.started_at = False, [], 1, None
        self.answered = 0

    async def start(self) -> None:
        FakeWorld.started += 1
        self.alive = True

    async def send(self, message: dict[str, Any]) -> None:
        if not self.alive:
            raise WorldDiedError("gone")
        self.sent.append(message)

    async def receive(self, timeout: float) -> dict[str, Any]:
        outcome = await self.releases.get()
        if outcome == "die":
            self.alive = False
            raise WorldDiedError("world exited by signal 9 during the task")
        message = self.sent[self.answered]
        self.answered += 1
        return {"type": "done", "task_id": message["task_id"], "ok": True,
                "report": {"result": 3}}

    async def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        return {"type": "pong"}

    async def kill(self) -> None:
        self.alive = False

    async def stop(self) -> None:
        self.alive = False


async def _until(predicate: Any, deadline_s: float = 5.0) -> None:
    end = asyncio.get_running_loop().time() + deadline_s
    while not predicate():
        assert asyncio.get_running_loop().time() < end, "condition not reached in time"
        await asyncio.sleep(0.005)


def _dispatcher(tmp_path: Path) -> tuple[Dispatcher, Store]:
    store = Store(tmp_path / "s.db")
    dispatcher = Dispatcher(store, EventBus(), Metrics(store), ranks=2, state_dir=tmp_path,
                            world_factory=FakeWorld)
    return dispatcher, store


def test_a_tiny_task_is_sent_ahead_and_its_cancel_is_honoured(tmp_path: Path) -> None:
    async def scenario() -> None:
        dispatcher, store = _dispatcher(tmp_path)
        first, second = store.add("sum", TINY), store.add("sum", TINY)
        await dispatcher.start()
        await _until(lambda: dispatcher.world is not None)
        world = dispatcher.world
        assert isinstance(world, FakeWorld)
        await _until(lambda: len(world.sent) == 2)
        assert store.get(first.id).state == "running"  # type: ignore[union-attr]
        assert store.get(second.id).state == "queued"  # type: ignore[union-attr]
        assert (await dispatcher.cancel(second.id)).state == "cancelled"  # type: ignore[union-attr]
        world.releases.put_nowait("ok")
        world.releases.put_nowait("ok")
        await _until(lambda: store.get(first.id).state == "done")  # type: ignore[union-attr]
        await _until(lambda: world.releases.empty())
        await asyncio.sleep(0.05)
        assert store.get(second.id).state == "cancelled"  # type: ignore[union-attr]
        assert [s for s, _ in store.transitions(second.id)] == ["queued", "cancelled"]
        await dispatcher.close()

    asyncio.run(scenario())


def test_a_lost_world_fails_the_running_task_and_resends_the_one_ahead(tmp_path: Path) -> None:
    async def scenario() -> None:
        dispatcher, store = _dispatcher(tmp_path)
        first, second = store.add("sum", TINY), store.add("sum", TINY)
        FakeWorld.started = 0
        await dispatcher.start()
        await _until(lambda: dispatcher.world is not None)
        old = dispatcher.world
        assert isinstance(old, FakeWorld)
        await _until(lambda: len(old.sent) == 2)
        old.releases.put_nowait("die")
        await _until(lambda: dispatcher.world is not old and dispatcher.world is not None
                     and dispatcher.world.alive)
        failed = store.get(first.id)
        assert failed is not None and failed.state == "failed"
        assert failed.error == "world exited by signal 9 during the task"
        new = dispatcher.world
        assert isinstance(new, FakeWorld)
        await _until(lambda: len(new.sent) == 1)
        assert new.sent[0]["task_id"] == second.id
        new.releases.put_nowait("ok")
        await _until(lambda: store.get(second.id).state == "done")  # type: ignore[union-attr]
        assert (FakeWorld.started, dispatcher.restarts) == (2, 1)
        await dispatcher.close()

    asyncio.run(scenario())


class PoisonWorld(FakeWorld):
    """Dies whenever it is sent a job."""

    async def send(self, message: dict[str, Any]) -> None:
        self.alive = False
        raise WorldDiedError("gone")


def test_a_task_no_world_can_take_fails_instead_of_looping(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store(tmp_path / "s.db")
        dispatcher = Dispatcher(store, EventBus(), Metrics(store), ranks=2, state_dir=tmp_path,
                                world_factory=PoisonWorld)
        task = store.add("sum", TINY)
        await dispatcher.start()
        await _until(lambda: store.get(task.id).state == "failed")  # type: ignore[union-attr]
        assert "could not take the task (3 worlds tried)" in store.get(task.id).error  # type: ignore[union-attr,operator]
        await dispatcher.close()

    asyncio.run(scenario())
