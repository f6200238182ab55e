"""The dashboard in Debian's headless Chromium against a real 2-rank `supervm serve`."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import DESKTOP, PHONE, WAIT_MS, open_page, shot
from live import LiveService

#: What each page shows once its data has arrived.
PAGES = {
    "overview": "#recent li",
    "vms": "#vm-list p, #vm-list table",
    "tasks": "#task-rows tr",
    "resources": "#resource-panels section",
    "settings": "#settings-form",
}


def test_sort_from_task_manager_completes_and_shows_values(browser: Any,
                                                           svc: LiveService) -> None:
    with open_page(browser, svc, svc.token, DESKTOP, "#/tasks") as (page, console):
        page.fill("#sort-values", "5, 3, 9, 1, 3, -2")
        page.click("#sort-submit")
        page.wait_for_selector("#sorted-values", timeout=WAIT_MS)
        assert page.inner_text("#sorted-values") == "-2, 1, 3, 3, 5, 9"
        details = page.inner_text("#task-details")
        assert "done" in details and "running" in details
        assert page.locator("#phases tbody tr").count() >= 1  # per-phase timings
        assert page.locator("#task-rows tr[data-task]").count() >= 1
        shot(page, "tasks-sort-done", full_page=True)
        assert console.unexpected() == []


def test_small_render_shows_its_image(browser: Any, svc: LiveService) -> None:
    with open_page(browser, svc, svc.token, DESKTOP, "#/tasks") as (page, console):
        page.fill("#render-scene", "spheres.json")
        page.fill("#render-resolution", "48x36")
        page.select_option("#render-quality", "low")
        page.click("#render-submit")
        image = page.wait_for_selector("#task-result img", timeout=WAIT_MS)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image,
                               timeout=WAIT_MS)
        assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 36]
        shot(page, "tasks-render-done", full_page=True)
        assert console.unexpected() == []


def test_reduction_shows_its_value(browser: Any, svc: LiveService) -> None:
    with open_page(browser, svc, svc.token, DESKTOP, "#/tasks") as (page, console):
        page.fill("#reduce-values", "1 2 3 4")
        page.select_option("#reduce-op", "sum")
        page.click("#reduce-submit")
        page.wait_for_selector("#task-result pre", timeout=WAIT_MS)
        assert page.inner_text("#task-result pre").strip() == "10"
        assert console.unexpected() == []


def test_quick_action_sorts_and_the_events_stream_shows_it(browser: Any,
                                                           svc: LiveService) -> None:
    with open_page(browser, svc, svc.token, DESKTOP, "#/overview") as (page, console):
        page.wait_for_selector("#live:text('events: live')", timeout=WAIT_MS)
        page.click("#demo-sort")
        page.wait_for_selector("#event-log li:has-text('done')", timeout=WAIT_MS)
        assert "sort" in page.inner_text("#event-log")
        assert console.unexpected() == []


def test_vm_manager_without_guests(browser: Any, svc: LiveService) -> None:
    """The live endpoint with an empty launcher state: "No guests." and the create form.

    Real guests on this page: tests/browser/test_vm_manager.py (marker `guests`).
    """
    with open_page(browser, svc, svc.token, DESKTOP, "#/vms") as (page, console):
        page.wait_for_selector("#vm-list p.notice:text('No guests.')", timeout=WAIT_MS)
        assert page.locator("#vm-create-submit").is_enabled()
        page.click("#vm-bulk-stop")
        assert page.inner_text("#vm-msg") == "Select guests first."
        # The create form by keyboard alone: Tab from the bulk buttons into the form, Enter.
        page.focus("#vm-bulk-delete")
        page.keyboard.press("Tab")  # the form's first field, Name
        assert page.evaluate("document.activeElement.name") == "name"
        page.focus("#vm-spec-name")
        page.keyboard.type("nothing-here")
        page.keyboard.press("Enter")
        page.wait_for_selector("#vm-create-error:has-text('no spec')", timeout=WAIT_MS)
        assert console.unexpected(("422",)) == []


def test_wrong_token_shows_the_message(browser: Any, svc: LiveService) -> None:
    with open_page(browser, svc, "not-the-token", DESKTOP, "#/tasks") as (page, console):
        page.click("#sort-submit")
        banner = page.wait_for_selector("#banner:not([hidden])", timeout=WAIT_MS)
        assert "Wrong or missing token" in banner.inner_text()
        assert page.locator("#token-prompt").is_visible()
        shot(page, "wrong-token")
        # The refused POST is logged by Chromium as a failed load; nothing else may be.
        assert console.unexpected(("401",)) == []


def test_no_token_asks_for_it(browser: Any, svc: LiveService) -> None:
    with open_page(browser, svc, None, DESKTOP, "#/overview") as (page, _):
        assert page.locator("#token-prompt").is_visible()
        page.fill("#token-input", svc.token)
        page.click("#token-form button[type=submit]")
        assert page.locator("#token-prompt").is_hidden()
        stored = page.evaluate("JSON.parse(localStorage.getItem('supervm.dashboard')).token")
        assert stored == svc.token


def test_phone_width_shows_the_nav(browser: Any, svc: LiveService) -> None:
    with open_page(browser, svc, svc.token, PHONE, "#/tasks") as (page, console):
        page.wait_for_selector(PAGES["tasks"], timeout=WAIT_MS)
        for link in page.locator("#nav a").all():
            assert link.is_visible()
            box = link.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "phone-tasks")
        assert console.unexpected() == []


def test_keyboard_navigation(browser: Any, svc: LiveService) -> None:
    with open_page(browser, svc, svc.token, DESKTOP, "#/overview") as (page, _):
        page.wait_for_selector(PAGES["overview"], timeout=WAIT_MS)
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")  # Overview
        page.keyboard.press("Tab")  # VM Manager
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#/vms"
        page.keyboard.press("Enter")
        page.wait_for_selector("#nav a[href='#/vms'][aria-current=page]", timeout=WAIT_MS)
        assert page.inner_text("main h1") == "VM Manager"


# Last, so that the pictures (the README's) show the tasks the tests above ran.
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_without_console_errors(browser: Any, svc: LiveService,
                                                 name: str) -> None:
    with open_page(browser, svc, svc.token, DESKTOP, f"#/{name}",
                   refresh_ms=500) as (page, console):
        page.wait_for_selector(PAGES[name], timeout=WAIT_MS)
        assert page.locator(f'#nav a[href="#/{name}"]').get_attribute("aria-current") == "page"
        assert page.locator("main h1").count() == 1
        # A few polls, so that the charts in the pictures have some history to draw.
        page.wait_for_timeout(2500 if name in ("overview", "resources") else 300)
        shot(page, f"dashboard-{name}" if name != "vms" else "dashboard-vms-empty")
        assert console.unexpected() == []
        assert page.locator("#banner").is_hidden()


def test_settings_persist_and_switch_the_theme(browser: Any, svc: LiveService) -> None:
    with open_page(browser, svc, svc.token, DESKTOP, "#/settings") as (page, console):
        page.select_option("#set-theme", "dark")
        page.fill("#set-refresh", "3000")
        page.click("#settings-form button[type=submit]")
        page.reload()
        page.wait_for_selector("#settings-form", timeout=WAIT_MS)
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert page.input_value("#set-refresh") == "3000"
        page.goto(f"{svc.url}/#/overview")
        page.wait_for_selector(PAGES["overview"], timeout=WAIT_MS)
        shot(page, "dark-overview")
        assert console.unexpected() == []
