"""GET /api/vms and /api/vms/{vm_id}: the guests `supervm-launch` runs (read-only for now)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from supervm.launcher.state import DEFAULT_STATE_DIR, RunState, list_runs
from supervm.service.submission import RequestError


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


def vm_list(state_dir: Path) -> list[dict[str, Any]]:
    """Return every guest of every saved run, with libvirt's current state."""
    vms = []
    for run_id in list_runs(state_dir):
        try:
            run = RunState.load(state_dir, run_id)
        except (OSError, ValueError, TypeError):
            continue  # a state being rewritten or foreign: skip, never fail the listing
        live = _live_states(run.uri, [g.name for g in run.guests])
        vms += [{"id": g.name, "run": run.run_id, "address": g.address, "vcpus": g.vcpus,
                 "memory_mib": g.memory_mib, "accel": run.accel, "phase": run.phase,
                 "state": live[g.name]} for g in run.guests]
    return vms


def _state_dir(request: Request) -> Path:
    return Path(getattr(request.app.state, "launch_state_dir", DEFAULT_STATE_DIR))


async def list_vms(request: Request) -> JSONResponse:
    """List the launcher's guests."""
    return JSONResponse({"vms": await run_in_threadpool(vm_list, _state_dir(request))})


async def get_vm(request: Request) -> JSONResponse:
    """Return one guest by its domain name."""
    vm_id = request.path_params["vm_id"]
    for vm in await run_in_threadpool(vm_list, _state_dir(request)):
        if vm["id"] == vm_id:
            return JSONResponse(vm)
    raise RequestError(404, f"no guest {vm_id!r} in any launcher run")


routes = [
    Route("/api/vms", list_vms, methods=["GET"]),
    Route("/api/vms/{vm_id}", get_vm, methods=["GET"]),
]
