"""Health, status, resources and the JSON metrics of the Super VM."""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import supervm
from supervm.service import metrics as service_metrics
from supervm.service.context import service
from supervm.service.resources import local_host
from supervm.service.routes.nodes import nodes_of


async def health(request: Request) -> JSONResponse:
    """Return ok while the world is up (or busy), degraded otherwise."""
    world = service(request).dispatcher.world_state
    status = "ok" if world in ("idle", "busy") else "degraded"
    return JSONResponse({"status": status, "world": world, "time": time.time()})


async def status(request: Request) -> JSONResponse:
    """Return the world's state and size, the queue length and the uptime."""
    svc = service(request)
    return JSONResponse({
        "world": svc.dispatcher.status(),
        "queue_length": svc.store.queue_length(),
        "running": svc.dispatcher.current,
        "uptime_s": time.time() - svc.started_at,
        "version": supervm.__version__,
    })


async def resources(request: Request) -> JSONResponse:
    """Return the resource pool: this host's CPU, memory and GPUs, and the world's nodes."""
    svc = service(request)
    host = await asyncio.to_thread(local_host)
    return JSONResponse({"hosts": [host], "nodes": nodes_of(svc, host),
                         "world_ranks": svc.dispatcher.status()["size"]})


async def metrics(request: Request) -> JSONResponse:
    """Return jobs by state, durations and throughput."""
    svc = service(request)
    summary = service_metrics.summary(svc.store)
    summary["world_restarts"] = svc.dispatcher.restarts
    return JSONResponse(summary)


routes = [
    Route("/api/health", health, methods=["GET"]),
    Route("/api/super-vm/status", status, methods=["GET"]),
    Route("/api/super-vm/resources", resources, methods=["GET"]),
    Route("/api/super-vm/metrics", metrics, methods=["GET"]),
]
