"""GET /metrics (Prometheus exposition) and GET /api/events (server-sent task events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from supervm.service.context import service

#: Seconds between keep-alive comments on an idle event stream (proxies drop silent ones).
KEEP_ALIVE_S = 15.0


async def prometheus(request: Request) -> Response:
    """Return every metric in Prometheus' text format."""
    body = generate_latest(service(request).metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def events(request: Request) -> StreamingResponse:
    """Stream task state changes as server-sent events until the client or server leaves."""
    bus = service(request).bus

    async def stream() -> AsyncIterator[str]:
        async with bus.subscribe() as queue:
            yield ": connected\n\n"
            while not bus.closed:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEP_ALIVE_S)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                # Task events are named "task"; the guests' progress events "vm".
                name = event.get("stream", "task")
                yield f"event: {name}\ndata: {json.dumps(event)}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


routes = [
    Route("/metrics", prometheus, methods=["GET"]),
    Route("/api/events", events, methods=["GET"]),
]
