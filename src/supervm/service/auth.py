"""Bearer-token auth: the token file (mode 0600) or SUPERVM_TOKEN, checked in constant time."""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_ENV = "SUPERVM_TOKEN"
TOKEN_FILE = "token"

#: Paths under which a GET still needs the token (results are data, not status).
_PROTECTED_GET = re.compile(r"^/api/tasks/[^/]+/result$")
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def load_or_create_token(state_dir: Path, environ: Mapping[str, str] = os.environ) -> str:
    """Return SUPERVM_TOKEN if set, else the state directory's token (made on first use)."""
    if environ.get(TOKEN_ENV):
        return environ[TOKEN_ENV]
    path = state_dir / TOKEN_FILE
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    # O_EXCL with 0o600 from the start: the token is never readable by others, not even
    # for the moment between creating the file and a chmod.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def token_configured(state_dir: Path, environ: Mapping[str, str] = os.environ) -> bool:
    """Return whether a token exists before start: SUPERVM_TOKEN or an existing token file."""
    return bool(environ.get(TOKEN_ENV)) or (state_dir / TOKEN_FILE).is_file()


def is_loopback(host: str) -> bool:
    """Return whether `host` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def needs_token(method: str, path: str, open_reads: bool) -> bool:
    """Return whether a request must carry the token."""
    if method in _MUTATING or _PROTECTED_GET.match(path):
        return True
    return not open_reads and path not in ("/api/health",)


class TokenAuth:
    """ASGI middleware answering 401 to a request that needs the token and lacks it."""

    def __init__(self, app: ASGIApp, token: str, open_reads: bool = True) -> None:
        self.app = app
        self.token = token.encode()
        self.open_reads = open_reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_token(scope["method"], scope["path"],
                                                      self.open_reads):
            await self.app(scope, receive, send)
            return
        problem = self._problem(dict(scope["headers"]).get(b"authorization"))
        if problem is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": problem}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="supervm"')]})
        await send({"type": "http.response.body", "body": body})

    def _problem(self, header: bytes | None) -> str | None:
        """Return what is wrong with the Authorization header, or None if it is right."""
        if not header:
            return "missing bearer token: send 'Authorization: Bearer <token>'"
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"bearer" or not value.strip():
            return "malformed Authorization header: expected 'Bearer <token>'"
        if not hmac.compare_digest(value.strip(), self.token):
            return "wrong bearer token"
        return None
