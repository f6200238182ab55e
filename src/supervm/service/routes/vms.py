"""The launcher's guests: list, create from a spec, delete, stop, start (GET/POST/DELETE /api/vms).

Creating answers 202 at once; `cluster.up` runs in a worker thread and its phases arrive as
`vm` events on /api/events and in the listing's `runs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from supervm.launcher.state import RunState, list_runs
from supervm.service.context import read_json, service
from supervm.service.guests import GuestManager
from supervm.service.models import ErrorItem
from supervm.service.submission import RequestError

#: Default and longest seconds a stop waits for a guest to power itself off.
STOP_DEADLINE_S, MAX_STOP_DEADLINE_S = 20.0, 600.0


def _live_states(uri: str, names: list[str]) -> dict[str, str]:
    """Return libvirt's view of each domain; 'unknown' when libvirt cannot be reached."""
    try:
        import libvirt
    except ImportError:
        return dict.fromkeys(names, "unknown")
    libvirt.registerErrorHandler(lambda *_: None, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return dict.fromkeys(names, "unknown")
    try:
        states = {}
        for name in names:
            try:
                states[name] = "running" if conn.lookupByName(name).isActive() else "shut off"
            except libvirt.libvirtError:
                states[name] = "missing"
        return states
    finally:
        conn.close()


def vm_list(state_dir: Path, busy: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Return every guest of every saved run, with libvirt's current state."""
    vms = []
    for run_id in list_runs(state_dir):
        try:
            run = RunState.load(state_dir, run_id)
        except (OSError, ValueError, TypeError):
            continue  # a state being rewritten or foreign: skip, never fail the listing
        live = _live_states(run.uri, [g.name for g in run.guests])
        vms += [{"id": g.name, "name": g.name, "run": run.run_id, "address": g.address,
                 "vcpus": g.vcpus, "memory_mib": g.memory_mib, "accel": run.accel,
                 "phase": run.phase, "guest_state": g.state, "state": live[g.name],
                 "host": run.uri, "busy": (busy or {}).get(g.name)} for g in run.guests]
    return vms


def _manager(request: Request) -> GuestManager:
    manager: GuestManager = service(request).guests
    return manager


async def list_vms(request: Request) -> JSONResponse:
    """List the launcher's guests, and its runs with their creation progress."""
    manager = _manager(request)
    vms = await run_in_threadpool(vm_list, manager.launch_dir, dict(manager.busy))
    runs = await run_in_threadpool(manager.run_records)
    wanted = request.query_params.get("run")
    if wanted is not None:
        vms = [vm for vm in vms if vm["run"] == wanted]
        runs = [r for r in runs if r["run"] == wanted]
    return JSONResponse({"vms": vms, "runs": runs})


async def get_vm(request: Request) -> JSONResponse:
    """Return one guest by its domain name."""
    manager = _manager(request)
    vm_id = request.path_params["vm_id"]
    for vm in await run_in_threadpool(vm_list, manager.launch_dir, dict(manager.busy)):
        if vm["id"] == vm_id:
            return JSONResponse(vm)
    raise RequestError(404, f"no guest {vm_id!r} in any launcher run")


async def create_vms(request: Request) -> JSONResponse:
    """Create guests from a cluster spec (inline, or {"spec": NAME}); answer 202 at once."""
    svc = service(request)
    body = await read_json(request, svc.max_body_bytes)
    manager = _manager(request)
    spec = await run_in_threadpool(manager.resolve_spec, body)  # it may read a TOML file
    created = await manager.begin_create(spec)
    return JSONResponse(created, status_code=202, headers={"Location": created["location"]})


async def delete_vm(request: Request) -> JSONResponse:
    """Remove one guest (its run too, if it was the last)."""
    return JSONResponse(await _manager(request).delete(request.path_params["vm_id"]))


async def delete_run(request: Request) -> JSONResponse:
    """Remove a whole run: DELETE /api/vms?run=RUN."""
    run_id = request.query_params.get("run")
    if not run_id:
        raise RequestError(422, "missing query parameter run", [ErrorItem(
            field="query.run", message="name the run to remove (DELETE /api/vms?run=RUN)")])
    return JSONResponse(await _manager(request).delete_run(run_id))


async def _optional_body(request: Request) -> dict[str, Any]:
    if not (await request.body()):
        return {}
    body = await read_json(request, service(request).max_body_bytes)
    if not isinstance(body, dict):
        raise RequestError(400, "request body must be a JSON object (or empty)")
    return body


async def stop_vm(request: Request) -> JSONResponse:
    """Power a guest off ({"deadline_s": S}: then destroy it); the world leaves it first."""
    body = await _optional_body(request)
    unknown = sorted(set(body) - {"deadline_s"})
    deadline = body.get("deadline_s", STOP_DEADLINE_S)
    problems = [ErrorItem(field=name, message="unknown field") for name in unknown]
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not (
            0 <= deadline <= MAX_STOP_DEADLINE_S):
        problems.append(ErrorItem(field="deadline_s", message=f"expected seconds from 0 to "
                                  f"{MAX_STOP_DEADLINE_S:g}"))
    if problems:
        raise RequestError(422, "invalid stop request", problems)
    return JSONResponse(await _manager(request).stop(request.path_params["vm_id"],
                                                     float(deadline)))


async def start_vm(request: Request) -> JSONResponse:
    """Boot a stopped guest and wait until it is ready."""
    return JSONResponse(await _manager(request).start(request.path_params["vm_id"]))


routes = [
    Route("/api/vms", list_vms, methods=["GET"]),
    Route("/api/vms", create_vms, methods=["POST"]),
    Route("/api/vms", delete_run, methods=["DELETE"]),
    Route("/api/vms/{vm_id}", get_vm, methods=["GET"]),
    Route("/api/vms/{vm_id}", delete_vm, methods=["DELETE"]),
    Route("/api/vms/{vm_id}/start", start_vm, methods=["POST"]),
    Route("/api/vms/{vm_id}/stop", stop_vm, methods=["POST"]),
]
