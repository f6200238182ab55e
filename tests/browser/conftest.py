"""Fixtures of the browser tests: a real `supervm serve` and Debian's Chromium under Playwright."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "service"))
sys.path.insert(0, str(Path(__file__).parent))

from live import LiveService, live_service

REPO = Path(__file__).parents[2]
#: Debian's build, installed by scripts/system-packages.sh; Playwright never downloads one.
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """Yield a 2-rank service whose data/ holds the example scene the render test uses."""
    state = tmp_path_factory.mktemp("browser") / "state"
    (state / "data").mkdir(parents=True, mode=0o700)
    state.chmod(0o700)
    shutil.copy(REPO / "examples" / "scenes" / "spheres.json", state / "data" / "spheres.json")
    # Its own (empty) launcher state: the VM Manager lists no one else's guests.
    with live_service(state, ranks=2, env={
            "SUPERVM_LAUNCH_STATE": str(state.parent / "launch")}) as service:
        yield service


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Yield a headless Chromium (Debian's), closed at the end of the module."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()
