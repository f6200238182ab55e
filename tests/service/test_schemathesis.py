"""Property-based requests (schemathesis) against the live service, from api/openapi.json."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from live import LiveService, live_service
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

REPO = Path(__file__).parents[2]
schema = schemathesis.openapi.from_path(REPO / "api" / "openapi.json")
# The event stream never ends by itself; its own test reads it.
schema = schema.exclude(path="/api/events")
# Creating and scaling boot real guests on the system libvirtd: never from generated bodies.
# Their validation is tested in test_vms_api.py; the rest of /api/vms runs here (404s).
schema = schema.exclude(method="POST", path="/api/vms").exclude(path="/api/super-vm/scale")
try:
    from supervm.jobs import seed_render_job  # noqa: F401
except ImportError:  # render lands with issue 4; until then /render answers 501 on purpose
    schema = schema.exclude(path="/api/super-vm/render")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    # Generated jobs stay small: the service refuses inputs over 100k elements.
    root = tmp_path_factory.mktemp("schemathesis")
    with live_service(root / "state", extra=["--max-elements", "100000"],
                      env={"SUPERVM_LAUNCH_STATE": str(root / "launch")}) as service:
        yield service


@schema.parametrize()
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case: schemathesis.Case, svc: LiveService) -> None:
    case.call_and_validate(base_url=svc.url, headers={"Authorization": f"Bearer {svc.token}"},
                           checks=CHECKS, timeout=30)
