"""The event bus: waiters on one task, subscribers of every change, closing."""

from __future__ import annotations

import asyncio

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
