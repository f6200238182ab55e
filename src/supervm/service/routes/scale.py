"""POST /api/super-vm/scale: grow or shrink the guests to N and move the world onto them."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from supervm.launcher.spec import ClusterSpec
from supervm.service.context import read_json, service
from supervm.service.models import ErrorItem
from supervm.service.submission import RequestError

#: Most guests one scale may ask for, and the default and longest seconds it may take.
MAX_NODES = 64
DEADLINE_S, MAX_DEADLINE_S = 600.0, 3600.0


def _check(body: Any) -> tuple[int, Any, float]:
    """Return (nodes, spec body or None, deadline); raise RequestError naming bad fields."""
    if not isinstance(body, dict):
        raise RequestError(400, 'request body must be a JSON object like {"nodes": 2}')
    problems = [ErrorItem(field=name, message="unknown field")
                for name in sorted(set(body) - {"nodes", "spec", "deadline_s"})]
    nodes = body.get("nodes")
    if isinstance(nodes, bool) or not isinstance(nodes, int) or not 0 <= nodes <= MAX_NODES:
        problems.append(ErrorItem(field="nodes", message=f"expected an integer from 0 to "
                                  f"{MAX_NODES} (0: the world runs on this host only)"))
    deadline = body.get("deadline_s", DEADLINE_S)
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not (
            1 <= deadline <= MAX_DEADLINE_S):
        problems.append(ErrorItem(field="deadline_s",
                                  message=f"expected seconds from 1 to {MAX_DEADLINE_S:g}"))
    if problems:
        raise RequestError(422, "invalid scale request", problems)
    return int(nodes), body.get("spec"), float(deadline)


async def scale(request: Request) -> JSONResponse:
    """Scale the guest set to `nodes`; answer with the new world once it is up."""
    svc = service(request)
    nodes, spec_body, deadline = _check(await read_json(request, svc.max_body_bytes))
    spec: ClusterSpec | None = None
    if spec_body is not None:
        spec = await run_in_threadpool(svc.guests.resolve_spec, spec_body if isinstance(
            spec_body, dict) else {"spec": spec_body})
    return JSONResponse(await svc.guests.scale(nodes, spec, deadline))


routes = [Route("/api/super-vm/scale", scale, methods=["POST"])]
