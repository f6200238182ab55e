"""GET /api/nodes and /api/nodes/{id}: the hosts the world's ranks run on, and the guests."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from supervm.service.context import ServiceState, service
from supervm.service.resources import local_host
from supervm.service.submission import RequestError


def nodes_of(svc: ServiceState, host: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Return one entry per host of the running world, its ranks and pids."""
    world = svc.dispatcher.world
    ranks = world.nodes if world is not None and world.alive else []
    by_host: dict[str, dict[str, Any]] = {}
    for info in ranks:
        node = by_host.setdefault(info["host"], {"id": info["host"], "ranks": [], "pids": [],
                                                 "cpus": info.get("cpus", 1), "memory": None})
        node["ranks"].append(info["rank"])
        node["pids"].append(info["pid"])
    if host is not None and host["host"] in by_host:
        by_host[host["host"]]["memory"] = host["memory"]
    return list(by_host.values())


def with_guests(svc: ServiceState, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add every launcher guest as a node (its ranks, if the world runs on it)."""
    from supervm.service.routes.vms import vm_list

    manager = svc.guests
    if manager is None:
        return nodes
    by_id = {node["id"]: node for node in nodes}
    for vm in vm_list(manager.launch_dir, dict(manager.busy)):
        # A guest's ranks report its hostname, which is its domain name.
        node = by_id.pop(vm["id"], {"id": vm["id"], "ranks": [], "pids": []})
        node.update({"kind": "guest", "address": vm["address"], "state": vm["state"],
                     "vcpus": vm["vcpus"], "cpus": vm["vcpus"],
                     "memory": {"total": vm["memory_mib"] * 2**20},
                     "memory_mib": vm["memory_mib"], "run": vm["run"]})
        nodes = [n for n in nodes if n["id"] != vm["id"]] + [node]
    for node in nodes:
        node.setdefault("kind", "host")
    return nodes


async def list_nodes(request: Request) -> JSONResponse:
    """List the world's nodes and the guests."""
    svc = service(request)
    return JSONResponse({"nodes": await run_in_threadpool(
        with_guests, svc, nodes_of(svc, local_host()))})


async def get_node(request: Request) -> JSONResponse:
    """Return one node by its host name (or a guest by its domain name)."""
    svc = service(request)
    node_id = request.path_params["node_id"]
    for node in await run_in_threadpool(with_guests, svc, nodes_of(svc, local_host())):
        if node["id"] == node_id:
            return JSONResponse(node)
    raise RequestError(404, f"no node {node_id!r} in the running world")


routes = [
    Route("/api/nodes", list_nodes, methods=["GET"]),
    Route("/api/nodes/{node_id}", get_node, methods=["GET"]),
]
