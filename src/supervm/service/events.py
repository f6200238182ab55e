"""Task state changes, fanned out to every listener (the SSE stream, waiting requests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

#: Events a slow listener may fall behind by before it misses some (never blocks the queue).
_BACKLOG = 1000


class EventBus:
    """Publish task events to subscribers; each subscriber has its own bounded queue."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._changed: dict[str, asyncio.Event] = {}
        self._listeners: dict[str, int] = {}
        self.closed = False

    def publish(self, event: dict[str, Any]) -> None:
        """Send `event` to every subscriber; wake whoever waits on its task."""
        for queue in self._subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)
        waiter = self._changed.pop(event.get("id", ""), None)
        if waiter is not None:
            waiter.set()

    @contextlib.contextmanager
    def listening(self, task_id: str) -> Iterator[asyncio.Event]:
        """Yield an event set at the next state change of `task_id`; forget it afterwards."""
        event = self._changed.setdefault(task_id, asyncio.Event())
        self._listeners[task_id] = self._listeners.get(task_id, 0) + 1
        try:
            yield event
        finally:
            left = self._listeners.pop(task_id) - 1
            if left:
                self._listeners[task_id] = left
            elif self._changed.get(task_id) is event:
                del self._changed[task_id]  # nobody waits for it any more

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any] | None]]:
        """Yield a queue of events (None when the bus closes) until the block ends."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(_BACKLOG)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def close(self) -> None:
        """End every subscription (the server is shutting down)."""
        self.closed = True
        for queue in self._subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        for waiter in self._changed.values():
            waiter.set()
