"""The Starlette application: routes, auth, error answers, and the dispatcher's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from supervm.launcher.state import DEFAULT_STATE_DIR
from supervm.service.auth import TokenAuth
from supervm.service.context import ServiceState, error_response
from supervm.service.dispatcher import Dispatcher
from supervm.service.events import EventBus
from supervm.service.guests import GuestManager
from supervm.service.metrics import Metrics
from supervm.service.routes import health, nodes, observe, scale, submit, tasks, vms
from supervm.service.store import Store
from supervm.service.submission import Limits, RequestError
from supervm.world import SOLO_BELOW

log = logging.getLogger("supervm.service")

MAX_BODY_BYTES = 16 * 2**20
MAX_ELEMENTS = 1_000_000_000
#: The dashboard's files (HTML, CSS, ES modules), shipped inside the package: no build step.
STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True)
class ServiceConfig:
    """How one service instance runs."""

    state_dir: Path
    token: str
    ranks: int = 2
    open_reads: bool = True
    max_body_bytes: int = MAX_BODY_BYTES
    max_elements: int = MAX_ELEMENTS
    data_dir: Path | None = None
    job_timeout_s: float = 3600.0
    start_world: bool = True
    solo_below: int = SOLO_BELOW
    launch_state_dir: Path | None = None
    spec_dir: Path | None = None


def default_spec_dir() -> Path:
    """Return SUPERVM_LAUNCH_SPECS, else the launch/ of the checkout this package runs from."""
    configured = os.environ.get("SUPERVM_LAUNCH_SPECS")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[3] / "launch"
    return checkout if checkout.is_dir() else Path.cwd() / "launch"


def prepare_state_dir(path: Path) -> Path:
    """Create the state directory (only this user may enter it) and its runs/ and data/."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for sub in ("runs", "data"):
        (path / sub).mkdir(exist_ok=True)
    return path


async def _request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)
    return error_response(exc.status, exc.message, exc.detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"no such endpoint: {request.method} {request.url.path}",
               405: f"method {request.method} not allowed on {request.url.path}"}.get(
        exc.status_code, str(exc.detail))
    return error_response(exc.status_code, message, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    # The traceback goes to the server's log, never to the client.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; the server's log has the details")


class DashboardFiles(StaticFiles):
    """The dashboard's static files; any method but GET and HEAD is a plain 404."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        # Without this, DELETE /typo would answer StaticFiles' 405 instead of "no such endpoint".
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(404)
        return await super().get_response(path, scope)


class DashboardMount(Mount):
    """The mount at /, which never claims /api/ paths: those keep the router's own answers
    (404 for an unknown path, 405 for a known path with the wrong method)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


def _openapi_route() -> Route:
    from supervm.service.openapi import build_document

    document = build_document()

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    return Route("/openapi.json", openapi, methods=["GET"])


def create_app(config: ServiceConfig) -> Starlette:
    """Return the service's ASGI app over the state directory in `config`."""
    state_dir = prepare_state_dir(config.state_dir)
    store = Store(state_dir / "supervm.db")
    bus = EventBus()
    metrics = Metrics(store)
    dispatcher = Dispatcher(store, bus, metrics, ranks=config.ranks, state_dir=state_dir,
                            job_timeout_s=config.job_timeout_s, solo_below=config.solo_below)
    limits = Limits(config.max_elements, config.data_dir or state_dir / "data")
    state = ServiceState(store, bus, metrics, dispatcher, limits, state_dir / "runs",
                         config.max_body_bytes)
    state.guests = GuestManager(config.launch_state_dir or DEFAULT_STATE_DIR,
                                config.spec_dir or default_spec_dir(), bus, dispatcher,
                                config.ranks)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()
        if config.start_world:
            await dispatcher.start()
        try:
            yield
        finally:
            bus.close()
            await state.guests.close()
            await dispatcher.close()
            store.close()

    # The dashboard is mounted last so that /api/..., /metrics and /openapi.json match first.
    routes = [*health.routes, *submit.routes, *tasks.routes, *nodes.routes, *vms.routes,
              *scale.routes,
              *observe.routes, _openapi_route(),
              DashboardMount("/", app=DashboardFiles(directory=STATIC_DIR, html=True),
                             name="dashboard")]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TokenAuth, token=config.token, open_reads=config.open_reads)],
        exception_handlers={RequestError: _request_error, HTTPException: _http_error,
                            Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.service = state
    app.state.config = config
    return app


def default_state_dir() -> Path:
    """Return SUPERVM_STATE_DIR, else ~/.local/state/supervm."""
    configured = os.environ.get("SUPERVM_STATE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "supervm"
