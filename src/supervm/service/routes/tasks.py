"""The task collection: list, one task (optionally waiting for it), its result, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from supervm.jobs.output import jsonable
from supervm.service.context import error_response, query_int, service, task_view
from supervm.service.models import ErrorItem
from supervm.service.store import STATES, Store, Task
from supervm.service.submission import RequestError

#: Results up to this many elements come back as JSON unless ?format=npy asks for the file.
JSON_RESULT_MAX = 10_000
#: Results larger than this are only served as files, even when JSON is asked for.
JSON_RESULT_HARD_MAX = 1_000_000
#: Longest ?wait= a request may hold a connection for.
MAX_WAIT_S = 60


def _task_or_404(store: Store, task_id: str) -> Task:
    task = store.get(task_id)
    if task is None:
        raise RequestError(404, f"no task with id {task_id!r}")
    return task


async def list_tasks(request: Request) -> JSONResponse:
    """List tasks, newest first, filtered by state and kind, a page at a time."""
    svc = service(request)
    state = request.query_params.get("state")
    if state is not None and state not in STATES:
        raise RequestError(422, "invalid query parameter state", [ErrorItem(
            field="query.state", message=f"expected one of {', '.join(STATES)}")])
    offset = query_int(request, "offset", 0, 0, 10**9)
    limit = query_int(request, "limit", 50, 1, 1000)
    tasks, total = svc.store.list(state, request.query_params.get("kind"), offset, limit)
    return JSONResponse({"tasks": [task_view(t) for t in tasks], "total": total,
                         "offset": offset, "limit": limit})


async def get_task(request: Request) -> JSONResponse:
    """Return one task; with ?wait=S, first wait up to S seconds for it to finish."""
    svc = service(request)
    task_id = request.path_params["task_id"]
    deadline = time.monotonic() + query_int(request, "wait", 0, 0, MAX_WAIT_S)
    task = _task_or_404(svc.store, task_id)
    while not task.final and not svc.bus.closed and time.monotonic() < deadline:
        with svc.bus.listening(task_id) as changed:
            task = _task_or_404(svc.store, task_id)  # it may have changed before we listened
            if task.final:
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), deadline - time.monotonic())
        task = _task_or_404(svc.store, task_id)
    return JSONResponse(task_view(task, svc.store.transitions(task_id)))


def _gathered(run_dir: Path, output: dict[str, Any]) -> Path:
    """Return one .npy of the whole result, joining per-rank blocks once if needed."""
    if "file" in output:
        return run_dir / output["file"]
    manifest = json.loads((run_dir / output["manifest"]).read_text())
    stem = "sorted" if manifest["kind"] == "sort" else "indices"
    target = run_dir / f"{stem}.npy"
    if not target.exists():
        blocks = [np.load(run_dir / b["file"], mmap_mode="r") for b in manifest["blocks"]]
        temp = run_dir / f".{stem}.joining.npy"
        with open(temp, "wb") as f:
            np.save(f, np.concatenate(blocks), allow_pickle=False)
        temp.replace(target)
    return target


async def get_result(request: Request) -> Response:
    """Return a done task's result: JSON for small ones, the .npy/.png file for large."""
    svc = service(request)
    task = _task_or_404(svc.store, request.path_params["task_id"])
    wanted = request.query_params.get("format")
    if wanted not in (None, "json", "npy"):
        raise RequestError(422, "invalid query parameter format", [ErrorItem(
            field="query.format", message="expected json or npy")])
    if task.state != "done":
        return error_response(409, f"task {task.id} is {task.state}; it has no result"
                              + (f" ({task.error})" if task.error else ""))
    report = task.result or {}
    if "result" in report:
        return JSONResponse({"id": task.id, "kind": task.kind, "result": report["result"]})
    output, n = report.get("output") or {}, int(report.get("n", 0))
    if not output or task.run_dir is None:
        raise RequestError(404, f"task {task.id} recorded no result file")
    if "frames" in output:
        return _frame_result(task, output["frames"], request.query_params.get("frame"))
    path = await asyncio.to_thread(_gathered, Path(task.run_dir), output)
    if not path.exists():
        raise RequestError(410, f"the result file of task {task.id} is gone")
    if path.suffix == ".png":
        return FileResponse(path, media_type="image/png", filename=f"{task.id}.png")
    as_json = wanted == "json" or (wanted is None and n <= JSON_RESULT_MAX)
    if as_json and n <= JSON_RESULT_HARD_MAX:
        values = await asyncio.to_thread(lambda: jsonable(np.load(path, allow_pickle=False)))
        return JSONResponse({"id": task.id, "kind": task.kind, "n": n, "values": values})
    return FileResponse(path, media_type="application/octet-stream",
                        filename=f"{task.id}-{path.name}")


def _frame_result(task: Task, frames: list[dict[str, Any]], wanted: str | None) -> Response:
    """Return one rendered frame's image, or the list of frames when there are several."""
    by_number = {int(f["frame"]): f["file"] for f in frames}
    if wanted is None and len(by_number) != 1:
        return JSONResponse({"id": task.id, "kind": task.kind, "frames": [
            {"frame": f, "url": f"/api/tasks/{task.id}/result?frame={f}"} for f in by_number]})
    if wanted is None:
        number = next(iter(by_number))
    else:
        try:
            number = int(wanted)
        except ValueError:
            raise RequestError(422, "invalid query parameter frame", [ErrorItem(
                field="query.frame", message="expected a frame number")]) from None
        if number not in by_number:
            raise RequestError(404, f"task {task.id} rendered no frame {number} "
                               f"(frames: {sorted(by_number)})")
    path = Path(task.run_dir or "") / by_number[number]
    if not path.exists():
        raise RequestError(410, f"the image of frame {number} of task {task.id} is gone")
    media = "image/png" if path.suffix == ".png" else "application/octet-stream"
    return FileResponse(path, media_type=media, filename=f"{task.id}-{path.name}")


async def cancel_task(request: Request) -> JSONResponse:
    """Cancel a queued task, or stop a running one (the world restarts)."""
    svc = service(request)
    task = _task_or_404(svc.store, request.path_params["task_id"])
    if task.final:
        return error_response(409, f"task {task.id} is already {task.state}")
    after = await svc.dispatcher.cancel(task.id)
    assert after is not None
    return JSONResponse(task_view(after, svc.store.transitions(task.id)))


routes = [
    Route("/api/tasks", list_tasks, methods=["GET"]),
    Route("/api/tasks/{task_id}", get_task, methods=["GET"]),
    Route("/api/tasks/{task_id}", cancel_task, methods=["DELETE"]),
    Route("/api/tasks/{task_id}/result", get_result, methods=["GET"]),
]
