"""The guest agent (qemu-ga) through libvirt: ping and run commands inside a guest."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import libvirt
import libvirt_qemu


class AgentError(RuntimeError):
    """The agent did not answer, or the guest is gone."""


@dataclass(frozen=True)
class ExecResult:
    """What a command run through the agent returned."""

    exitcode: int
    stdout: bytes
    stderr: bytes


def command(dom: libvirt.virDomain, execute: str, timeout_s: int = 5,
            **arguments: Any) -> Any:
    """Send one agent command; return its `return` value."""
    message: dict[str, Any] = {"execute": execute}
    if arguments:
        message["arguments"] = arguments
    try:
        reply = libvirt_qemu.qemuAgentCommand(dom, json.dumps(message), timeout_s, 0)
    except libvirt.libvirtError as exc:
        raise AgentError(f"{dom.name()}: {execute}: {exc.get_error_message()}") from None
    return json.loads(reply)["return"]


def ping(dom: libvirt.virDomain, timeout_s: int = 2) -> bool:
    """Return whether the agent answers a guest-ping."""
    try:
        command(dom, "guest-ping", timeout_s)
        return True
    except AgentError:
        return False


def start(dom: libvirt.virDomain, argv: list[str], env: list[str] | None = None) -> int:
    """Start `argv` in the guest with its output captured; return the guest pid."""
    args: dict[str, Any] = {"path": argv[0], "arg": argv[1:], "capture-output": True}
    if env is not None:
        args["env"] = env
    return int(command(dom, "guest-exec", 10, **args)["pid"])


def status(dom: libvirt.virDomain, pid: int) -> dict[str, Any] | None:
    """Return the finished command's status, or None while it runs."""
    reply = command(dom, "guest-exec-status", 10, pid=pid)
    return reply if reply.get("exited") else None


def result_of(reply: dict[str, Any]) -> ExecResult:
    """Decode a guest-exec-status reply."""
    code = reply.get("exitcode", 128 + int(reply.get("signal", 0) or 0))
    return ExecResult(int(code), base64.b64decode(reply.get("out-data", "")),
                      base64.b64decode(reply.get("err-data", "")))


def run(dom: libvirt.virDomain, argv: list[str], timeout_s: float,
        env: list[str] | None = None, poll_s: float = 0.1) -> ExecResult:
    """Run `argv` in the guest and wait for it, at most `timeout_s` seconds."""
    pid = start(dom, argv, env)
    end = time.monotonic() + timeout_s
    while True:
        reply = status(dom, pid)
        if reply is not None:
            return result_of(reply)
        if time.monotonic() > end:
            raise AgentError(f"{dom.name()}: {argv[0]} still running after {timeout_s:g} s")
        time.sleep(poll_s)
