"""What every route reaches through `request.app.state.service`, and the helpers they share."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from supervm.service.dispatcher import Dispatcher
from supervm.service.events import EventBus
from supervm.service.metrics import Metrics
from supervm.service.models import ErrorItem
from supervm.service.store import Store, Task
from supervm.service.submission import Limits, RequestError


@dataclass
class ServiceState:
    """The running service's parts."""

    store: Store
    bus: EventBus
    metrics: Metrics
    dispatcher: Dispatcher
    limits: Limits
    runs_dir: Path
    max_body_bytes: int
    started_at: float = field(default_factory=time.time)
    guests: Any = None  # the GuestManager (typed Any: it imports this module's neighbours)


def service(request: Request) -> ServiceState:
    """Return the service state of the app serving `request`."""
    state: ServiceState = request.app.state.service
    return state


def error_response(status: int, message: str, detail: list[ErrorItem] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """Return the JSON error body every failure answers with."""
    body: dict[str, Any] = {"error": message}
    if detail is not None:
        body["detail"] = [item.model_dump() for item in detail]
    return JSONResponse(body, status_code=status, headers=headers)


async def read_json(request: Request, limit: int) -> Any:
    """Return the parsed JSON body; raise RequestError 413 past `limit` bytes, 400 if invalid."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"request body of {declared} bytes exceeds the limit of "
                           f"{limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    if size == 0:
        raise RequestError(400, "request body is empty: expected a JSON object")
    try:
        return json.loads(b"".join(chunks))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(400, f"request body is not valid JSON: {exc}") from None


def task_view(task: Task, transitions: list[tuple[str, float]] | None = None) -> dict[str, Any]:
    """Return a task as the API shows it (the TaskInfo model's fields)."""
    report = task.result or {}
    duration = (task.finished_at - task.started_at
                if task.finished_at is not None and task.started_at is not None else None)
    view: dict[str, Any] = {
        "id": task.id, "kind": task.kind, "state": task.state, "spec": task.spec,
        "hints": task.hints, "created_at": task.created_at, "queued_at": task.queued_at,
        "started_at": task.started_at, "finished_at": task.finished_at,
        "duration_s": duration, "error": task.error, "result": report.get("result"),
        "result_url": f"/api/tasks/{task.id}/result" if task.state == "done" else None,
    }
    if transitions is not None:
        view["transitions"] = [{"state": s, "at": at} for s, at in transitions]
        # The run's profile (the dashboard's per-phase timings), only in the single-task view.
        view["ranks"] = report.get("ranks")
        view["wall_seconds"] = report.get("wall_seconds")
        view["phases"] = report.get("phases")
    return view


def submitted(task: Task) -> JSONResponse:
    """Return the 202 answer to a submission."""
    location = f"/api/tasks/{task.id}"
    return JSONResponse({"id": task.id, "kind": task.kind, "state": task.state,
                         "location": location}, status_code=202, headers={"Location": location})


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """Return an integer query parameter within [low, high]; raise RequestError 422 if not."""
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise RequestError(422, f"invalid query parameter {name}", [ErrorItem(
            field=f"query.{name}", message=f"expected an integer from {low} to {high}")])
    return value
