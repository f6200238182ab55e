"""The OpenAPI 3.1 document, built from the pydantic models and the route table.

`python -m supervm.service.openapi > api/openapi.json` refreshes the committed copy; a test
fails when the two drift apart.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import TypeAdapter

import supervm
from supervm.jobs.models import JobSpec
from supervm.launcher.spec import ClusterSpec
from supervm.service import models

_REF = "#/components/schemas/{model}"
_SCHEMAS: dict[str, Any] = {
    "JobSpec": JobSpec,
    "SeedProcessRequest": models.SeedProcessRequest,
    "SeedRenderRequest": models.SeedRenderRequest,
    "Submitted": models.Submitted,
    "TaskInfo": models.TaskInfo,
    "TaskPage": models.TaskPage,
    "ErrorBody": models.ErrorBody,
    "Health": models.Health,
    "Status": models.Status,
    "Node": models.Node,
    "NodeList": models.NodeList,
    "Vm": models.Vm,
    "VmList": models.VmList,
    "ClusterSpec": ClusterSpec,
    "NamedSpec": models.NamedSpec,
    "VmCreated": models.VmCreated,
    "VmDeleted": models.VmDeleted,
    "RunDeleted": models.RunDeleted,
    "StopRequest": models.StopRequest,
    "VmAction": models.VmAction,
    "ScaleRequest": models.ScaleRequest,
    "ScaleResult": models.ScaleResult,
}
_SERIALIZED = {"Submitted", "TaskInfo", "TaskPage", "ErrorBody", "Health", "Status", "Node",
               "NodeList", "Vm", "VmList", "VmCreated", "VmDeleted", "RunDeleted", "VmAction",
               "ScaleResult"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json(_ref("ErrorBody"))}


_ERRORS = {
    "400": "the body is not valid JSON",
    "401": "missing or wrong bearer token",
    "404": "no such task, node or guest",
    "409": "the task or guest is in a state that does not allow this (a guest being "
           "created, a subnet in use, a scale in progress)",
    "410": "the result file is gone",
    "413": "the request body is over the size limit",
    "422": "invalid input: one item per field at fault",
    "500": "a guest or run was not removed completely (the message lists what is left)",
    "503": "the world did not start on the new guests",
    "504": "a guest did not become ready within the deadline (the message has its console)",
}
_VM_ID = {"name": "vm_id", "in": "path", "required": True, "schema": {"type": "string"}}
_OBJECT = {"type": "object"}
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _op(op_id: str, summary: str, ok: tuple[str, dict[str, Any] | None],
        errors: tuple[str, ...] = (), *, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, secured: bool = False,
        content: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return one operation object."""
    code, schema = ok
    success: dict[str, Any] = {"description": summary}
    if content is not None:
        success["content"] = content
    elif schema is not None:
        success["content"] = _json(schema)
    operation: dict[str, Any] = {"operationId": op_id, "summary": summary,
                                 "responses": {code: success, **{
                                     e: _error(_ERRORS[e]) for e in errors}}}
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    if secured:
        operation["security"] = [{"bearer": []}]
        operation["responses"]["401"] = _error(_ERRORS["401"])
    return operation


def _paths() -> dict[str, Any]:
    """Return the route table as OpenAPI path items."""
    submit_errors = ("400", "413", "422")
    states = {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]}
    return {
        "/api/health": {"get": _op("health", "Health check", ("200", _ref("Health")))},
        "/api/super-vm/status": {"get": _op(
            "status", "World state and size, queue length, uptime", ("200", _ref("Status")))},
        "/api/super-vm/resources": {"get": _op(
            "resources", "CPU, memory and GPUs per node", ("200", _OBJECT))},
        "/api/super-vm/metrics": {"get": _op(
            "metrics", "Jobs by state, durations, throughput", ("200", _OBJECT))},
        "/api/super-vm/process": {"post": _op(
            "process", "Queue a data-processing job", ("202", _ref("Submitted")),
            submit_errors, secured=True,
            body={"oneOf": [_ref("SeedProcessRequest"), _ref("JobSpec")]})},
        "/api/super-vm/render": {"post": _op(
            "render", "Queue a render job", ("202", _ref("Submitted")),
            submit_errors, secured=True, body=_ref("SeedRenderRequest"))},
        "/api/tasks": {"get": _op(
            "listTasks", "List tasks, newest first", ("200", _ref("TaskPage")), ("422",),
            params=[_query("state", states, "only tasks in this state"),
                    _query("kind", {"type": "string"}, "only jobs of this kind"),
                    _query("offset", {"type": "integer", "minimum": 0, "maximum": 10**9},
                           "tasks to skip"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
                           "page size (50)")])},
        "/api/tasks/{task_id}": {
            "get": _op("getTask", "One task, its transitions", ("200", _ref("TaskInfo")),
                       ("404", "422"), params=[_TASK_ID, _query(
                           "wait", {"type": "integer", "minimum": 0, "maximum": 60},
                           "seconds to wait for the task to finish first (0)")]),
            "delete": _op("cancelTask", "Cancel a queued or running task",
                          ("200", _ref("TaskInfo")), ("404", "409"), params=[_TASK_ID],
                          secured=True),
        },
        "/api/tasks/{task_id}/result": {"get": _op(
            "getResult", "A done task's result: JSON when small, else the file",
            ("200", None), ("404", "409", "410", "422"), secured=True,
            params=[_TASK_ID, _query("format", {"type": "string", "enum": ["json", "npy"]},
                                     "json or npy (default: json up to 10,000 elements)"),
                    _query("frame", {"type": "integer", "minimum": 0, "maximum": 10**9},
                           "render jobs: the frame whose image to return")],
            content={"application/json": {"schema": _OBJECT},
                     "application/octet-stream": {"schema": {"type": "string",
                                                             "format": "binary"}},
                     "image/png": {"schema": {"type": "string", "format": "binary"}}})},
        "/api/nodes": {"get": _op("listNodes", "Hosts the world's ranks run on",
                                  ("200", _ref("NodeList")))},
        "/api/nodes/{node_id}": {"get": _op(
            "getNode", "One host of the world", ("200", _ref("Node")), ("404",),
            params=[{"name": "node_id", "in": "path", "required": True,
                     "schema": {"type": "string"}}])},
        "/api/vms": {
            "get": _op("listVms", "Guests the launcher runs, and the runs with their progress",
                       ("200", _ref("VmList")), params=[_query(
                           "run", {"type": "string"}, "only this run's guests")]),
            "post": _op("createVms", "Create guests from a cluster spec (inline or by name); "
                        "202 at once, progress as `vm` events", ("202", _ref("VmCreated")),
                        ("400", "409", "413", "422"), secured=True,
                        body={"oneOf": [_ref("ClusterSpec"), _ref("NamedSpec")]}),
            "delete": _op("deleteRun", "Take a whole run down: ?run=RUN",
                          ("200", _ref("RunDeleted")), ("404", "409", "422", "500"),
                          secured=True, params=[{**_query(
                              "run", {"type": "string"}, "the run to remove"),
                              "required": True}]),
        },
        "/api/vms/{vm_id}": {
            "get": _op("getVm", "One guest of a launcher run", ("200", _ref("Vm")), ("404",),
                       params=[_VM_ID]),
            "delete": _op("deleteVm", "Remove a guest (destroy, undefine, its files); the "
                          "run's last guest takes the run down", ("200", _ref("VmDeleted")),
                          ("404", "409", "500"), params=[_VM_ID], secured=True),
        },
        "/api/vms/{vm_id}/start": {"post": _op(
            "startVm", "Boot a stopped guest and wait until it is ready",
            ("200", _ref("VmAction")), ("404", "409", "500", "504"), params=[_VM_ID],
            secured=True)},
        "/api/vms/{vm_id}/stop": {"post": _op(
            "stopVm", "Power a guest off; destroy it after the deadline",
            ("200", _ref("VmAction")), ("400", "404", "409", "422"), params=[_VM_ID],
            secured=True)},
        "/api/super-vm/scale": {"post": _op(
            "scale", "Grow or shrink the guests to N and move the world onto them",
            ("200", _ref("ScaleResult")), ("400", "409", "413", "422", "500", "503", "504"),
            secured=True, body=_ref("ScaleRequest"))},
        "/api/events": {"get": _op(
            "events", "Server-sent events: task state changes", ("200", None),
            content={"text/event-stream": {"schema": {"type": "string"}}})},
        "/metrics": {"get": _op("prometheus", "Prometheus metrics", ("200", None),
                                content={"text/plain": {"schema": {"type": "string"}}})},
        "/openapi.json": {"get": _op("openapi", "This document", ("200", _OBJECT))},
    }


def components() -> dict[str, Any]:
    """Return the JSON schemas of every model the API uses, keyed by name."""
    adapters = [(name, "serialization" if name in _SERIALIZED else "validation",
                 TypeAdapter(model)) for name, model in _SCHEMAS.items()]
    tops, defs = TypeAdapter.json_schemas(adapters, ref_template=_REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    for (name, _mode), schema in tops.items():
        if schema.get("$ref") != _REF.format(model=name):
            schemas[name] = schema  # a union, not a model: it has no definition of its own
    return dict(sorted(schemas.items()))


def build_document() -> dict[str, Any]:
    """Return the whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "supervm", "version": supervm.__version__,
                 "description": "The Super VM's HTTP API: submit jobs to a persistent MPI "
                                "world, follow them, fetch results."},
        "paths": _paths(),
        "components": {
            "schemas": components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def render() -> str:
    """Return the document as the committed api/openapi.json holds it."""
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
