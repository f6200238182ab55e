"""The dashboard's static files: served at /, shipped as package data, the API unshadowed."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

import pytest
from conftest import TOKEN, make_client

from supervm.service.app import STATIC_DIR

REPO = Path(__file__).parents[2]
FILES = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())


def test_root_serves_the_dashboard(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        answer = client.get("/")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="app.js">' in answer.text
        assert client.get("/pages/tasks.js").headers["content-type"].startswith(
            "text/javascript")


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/nope"), ("POST", "/api/nope"),
                                              ("DELETE", "/nope"), ("GET", "/nope.js")])
def test_unknown_paths_stay_404(tmp_path: Path, method: str, path: str) -> None:
    with make_client(tmp_path) as client:
        answer = client.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 404
        assert "no such endpoint" in answer.json()["error"]


def test_api_routes_come_before_the_files(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        put = client.put("/api/tasks", headers={"Authorization": f"Bearer {TOKEN}"})
        assert put.status_code == 405  # the route's wrong method, not the files' 404
        assert client.get("/api/tasks").json()["tasks"] == []
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")
        assert client.get("/metrics").status_code == 200


def test_every_import_and_reference_resolves() -> None:
    for path in FILES:
        if path.suffix == ".js":
            for target in re.findall(r'from "(\.[^"]+)"', path.read_text()):
                assert (path.parent / target).resolve().is_file(), f"{path.name}: {target}"
    index = (STATIC_DIR / "index.html").read_text()
    for target in re.findall(r'(?:src|href)="([\w./-]+\.(?:js|css))"', index):
        assert (STATIC_DIR / target).is_file(), target


def test_nothing_is_fetched_from_elsewhere() -> None:
    for path in FILES:
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", path.read_text()), path.name


def test_every_file_ships_as_package_data() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["package-data"]["supervm"]
    package = STATIC_DIR.parents[1]
    for path in FILES:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch(relative, p) for p in patterns), relative
