"""Fixtures of the service tests: an in-process app without a world."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its test client; httpx still works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from supervm.service.app import ServiceConfig, create_app

TOKEN = "test-token-0123456789"


def make_client(tmp_path: Path, **overrides: object) -> TestClient:
    """Return a TestClient of an app whose dispatcher never starts a world."""
    # Its own launcher state: never the machine's /var/lib/supervm-launch.
    overrides.setdefault("launch_state_dir", tmp_path / "launch")
    config = ServiceConfig(state_dir=tmp_path / "state", token=TOKEN, start_world=False,
                           **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(config), raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as c:
        yield c


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}
