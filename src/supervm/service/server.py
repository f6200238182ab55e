"""`supervm serve`: the HTTP service under uvicorn, with its persistent MPI world."""

from __future__ import annotations

import asyncio
import fcntl
import sys
from pathlib import Path
from types import FrameType
from typing import IO, Any

import uvicorn

from supervm.service.app import ServiceConfig, create_app, prepare_state_dir
from supervm.service.auth import TOKEN_ENV, is_loopback, load_or_create_token, token_configured
from supervm.world import SOLO_BELOW


class _Server(uvicorn.Server):
    """uvicorn's server, ending open event streams as soon as shutdown begins."""

    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        self.service_app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        loop = getattr(self.service_app.state, "loop", None)
        if isinstance(loop, asyncio.AbstractEventLoop) and not loop.is_closed():
            loop.call_soon_threadsafe(self.service_app.state.service.bus.close)
        super().handle_exit(sig, frame)


def _lock_state_dir(state_dir: Path) -> IO[bytes] | None:
    """Return the open lock file that marks `state_dir` in use, or None if it already is.

    Two services on one store would each run its queue and fight over the world's socket.
    The lock goes with the process, however it ends.
    """
    handle = open(state_dir / "serve.lock", "wb")  # noqa: SIM115 (held for the process' life)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    _HELD_LOCKS.append(handle)
    return handle


_HELD_LOCKS: list[IO[bytes]] = []


def serve(host: str, port: int, ranks: int, state_dir: Path, *, max_body_bytes: int,
          max_elements: int, job_timeout_s: float, solo_below: int = SOLO_BELOW,
          launch_state_dir: Path | None = None, spec_dir: Path | None = None) -> int:
    """Run the service until interrupted; return the exit status (2: refused to start)."""
    state_dir = prepare_state_dir(state_dir)
    loopback = is_loopback(host)
    if not loopback and not token_configured(state_dir):
        print(f"supervm serve: refusing to listen on {host} (not loopback) without a token: "
              f"set {TOKEN_ENV}, or start once on 127.0.0.1 to create {state_dir / 'token'}",
              file=sys.stderr)
        return 2
    if _lock_state_dir(state_dir) is None:
        print(f"supervm serve: another supervm serve is using {state_dir}; stop it first or "
              "pass another --state-dir", file=sys.stderr)
        return 2
    token = load_or_create_token(state_dir)
    config = ServiceConfig(state_dir=state_dir, token=token, ranks=ranks, open_reads=loopback,
                           max_body_bytes=max_body_bytes, max_elements=max_elements,
                           job_timeout_s=job_timeout_s, solo_below=solo_below,
                           launch_state_dir=launch_state_dir, spec_dir=spec_dir)
    app = create_app(config)
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                    access_log=False, timeout_graceful_shutdown=3), app)
    shown = f"[{host}]" if ":" in host else host
    print(f"supervm serve: http://{shown}:{port}/api  ({ranks} rank{'s' * (ranks != 1)}, "
          f"state {state_dir})", flush=True)
    print(f"supervm serve: token {token}", flush=True)
    print(f"supervm serve: curl -H 'Authorization: Bearer {token}' -d "
          f"'{{\"inputData\": [3, 1, 2], \"operation\": \"sort\"}}' "
          f"http://{shown}:{port}/api/super-vm/process", flush=True)
    server.run()
    return 0
