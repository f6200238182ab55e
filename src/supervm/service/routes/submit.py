"""POST /api/super-vm/process and /render: validate, store, queue; answer 202."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from supervm.service.context import read_json, service, submitted
from supervm.service.submission import process_spec, render_spec


def _queue(request: Request, spec: Any, hints: dict[str, Any] | None) -> JSONResponse:
    svc = service(request)
    task = svc.store.add(spec.kind, spec.model_dump(mode="json"), hints, svc.runs_dir)
    svc.dispatcher.announce(task)
    svc.dispatcher.notify()
    return submitted(task)


async def process(request: Request) -> JSONResponse:
    """Queue a data-processing job (a job spec, or the seed's process body)."""
    svc = service(request)
    spec, hints = process_spec(await read_json(request, svc.max_body_bytes), svc.limits)
    return _queue(request, spec, hints)


async def render(request: Request) -> JSONResponse:
    """Queue a render job (the seed's render body)."""
    svc = service(request)
    spec, hints = render_spec(await read_json(request, svc.max_body_bytes), svc.limits)
    return _queue(request, spec, hints)


routes = [
    Route("/api/super-vm/process", process, methods=["POST"]),
    Route("/api/super-vm/render", render, methods=["POST"]),
]
