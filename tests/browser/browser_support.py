"""Helpers of the browser tests: console capture, opening a page with settings, screenshots."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from live import LiveService

ARTIFACTS = Path(__file__).parent / "artifacts"
#: Milliseconds any single browser wait may take before the test fails.
WAIT_MS = 60_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Console:
    """The console errors and uncaught exceptions of one page."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            self.errors.append(f"{message.text} ({url})")

    def on_page_error(self, error: Any) -> None:
        self.errors.append(f"uncaught: {error}")

    def unexpected(self, allowed: tuple[str, ...] = ()) -> list[str]:
        """Return the errors except those naming any of `allowed` (expected failed loads)."""
        return [e for e in self.errors if not any(a in e for a in allowed)]


@contextlib.contextmanager
def open_page(browser: Any, svc: LiveService, token: str | None, viewport: dict[str, int],
              hash_: str = "#/overview",
              routes: dict[str, Any] | None = None,
              refresh_ms: int = 2000) -> Iterator[tuple[Any, Console]]:
    """Yield (page, console) with the dashboard's settings preset and `hash_` open; close after.

    `routes` maps URL globs to Playwright route handlers (recorded answers, used only where
    the service lacks an endpoint).
    """
    context = browser.new_context(viewport=viewport)
    for pattern, handler in (routes or {}).items():
        context.route(pattern, handler)
    context.set_default_timeout(WAIT_MS)
    settings = {"apiBase": "", "token": token or "", "refreshMs": refresh_ms, "theme": "light"}
    # Only when nothing is stored yet: the script runs again on every load, and a reload must
    # keep what the page itself saved.
    context.add_init_script(
        "if (!localStorage.getItem('supervm.dashboard')) "
        f"localStorage.setItem('supervm.dashboard', {json.dumps(json.dumps(settings))});")
    page = context.new_page()
    console = Console()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    try:
        page.goto(f"{svc.url}/{hash_}")
        yield page, console
    finally:
        context.close()


def shot(page: Any, name: str, full_page: bool = False) -> Path:
    """Save a screenshot (the viewport, or the whole page) under tests/browser/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
