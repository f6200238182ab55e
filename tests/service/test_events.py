"""The event bus: waiters on one task, subscribers of every change, closing."""

from __future__ import annotations

import asyncio

import pytest

from supervm.service.events import EventBus


def test_event_bus_wakes_listeners_and_forgets_them() -> None:
    async def scenario() -> None:
        bus = EventBus()
        with bus.listening("a") as first, bus.listening("a") as second:
            assert first is second
            bus.publish({"id": "a", "state": "done"})
            assert first.is_set()
        with bus.listening("b"):
            pass
        assert not bus._changed and not bus._listeners
        async with bus.subscribe() as queue:
            bus.publish({"id": "c", "state": "queued"})
            bus.close()
            assert await queue.get() == {"id": "c", "state": "queued"}
            assert await queue.get() is None

    asyncio.run(scenario())


def test_event_stream_keeps_alive_and_ends_when_the_bus_closes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from supervm.service.routes import observe

    monkeypatch.setattr(observe, "KEEP_ALIVE_S", 0.05)
    bus = EventBus()
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(
        service=SimpleNamespace(bus=bus))))

    async def scenario() -> list[str]:
        response = await observe.events(request)  # type: ignore[arg-type]
        stream = response.body_iterator
        chunks = [await stream.__anext__(), await stream.__anext__()]
        bus.publish({"id": "t", "state": "done"})
        chunks.append(await stream.__anext__())
        bus.close()
        chunks += [chunk async for chunk in stream]
        return chunks

    chunks = asyncio.run(asyncio.wait_for(scenario(), 5))
    assert chunks == [": connected\n\n", ": keep-alive\n\n",
                      'event: task\ndata: {"id": "t", "state": "done"}\n\n']
