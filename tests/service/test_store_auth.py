"""The store's transitions and recovery; the token file, its mode, and the loopback rule."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from supervm.service.auth import is_loopback, load_or_create_token, needs_token, token_configured
from supervm.service.server import serve
from supervm.service.store import Store


def test_store_records_each_transition(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    task = store.add("sort", {"kind": "sort"}, {"cpu": 2}, tmp_path / "runs")
    assert task.state == "queued" and task.run_dir == str(tmp_path / "runs" / task.id)
    assert store.next_queued() == task
    assert store.start(task.id)
    assert not store.start(task.id)  # only a queued task starts
    assert store.finish(task.id, {"result": 3})
    assert not store.cancel(task.id)  # a final state is final
    done = store.get(task.id)
    assert done is not None and done.state == "done" and done.result == {"result": 3}
    assert [s for s, _ in store.transitions(task.id)] == ["queued", "running", "done"]
    assert store.counts() == {("sort", "done"): 1}
    store.close()


def test_running_tasks_fail_on_recovery_and_queued_survive(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    running = store.add("sum", {})
    queued = store.add("min", {})
    store.start(running.id)
    store.close()
    reopened = Store(tmp_path / "s.db")
    assert reopened.fail_interrupted("the service stopped") == [running.id]
    failed = reopened.get(running.id)
    assert failed is not None and failed.state == "failed" and failed.error == "the service stopped"
    assert reopened.next_queued() == queued
    assert reopened.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened.close()


def test_token_file_is_private_and_stable(tmp_path: Path) -> None:
    first = load_or_create_token(tmp_path, environ={})
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600
    assert len(first) >= 32
    assert load_or_create_token(tmp_path, environ={}) == first
    assert load_or_create_token(tmp_path, environ={"SUPERVM_TOKEN": "mine"}) == "mine"


def test_token_configured_and_loopback(tmp_path: Path) -> None:
    assert not token_configured(tmp_path, environ={})
    assert token_configured(tmp_path, environ={"SUPERVM_TOKEN": "x"})
    load_or_create_token(tmp_path, environ={})
    assert token_configured(tmp_path, environ={})
    assert all(map(is_loopback, ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "10.0.0.1", "::", "example.org"]))


def test_which_requests_need_the_token() -> None:
    assert needs_token("POST", "/api/super-vm/process", open_reads=True)
    assert needs_token("DELETE", "/api/tasks/1", open_reads=True)
    assert needs_token("GET", "/api/tasks/1/result", open_reads=True)
    assert not needs_token("GET", "/api/tasks/1", open_reads=True)
    assert needs_token("GET", "/api/tasks/1", open_reads=False)
    assert not needs_token("GET", "/api/health", open_reads=False)


def test_serve_refuses_a_public_address_without_a_token(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SUPERVM_TOKEN", raising=False)
    status = serve("0.0.0.0", 1, 1, tmp_path / "state", max_body_bytes=1,
                   max_elements=1, job_timeout_s=1)
    assert status == 2
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err
    assert not (tmp_path / "state" / "token").exists()


def test_serve_port_comes_from_the_seed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from supervm.cli import build_parser

    monkeypatch.setenv("SUPERVM_API_PORT", "4321")
    args = build_parser().parse_args(["serve"])
    assert (args.port, args.host, args.ranks) == (4321, "127.0.0.1", 2)
    monkeypatch.setenv("SUPERVM_API_PORT", "x")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve"])


def test_one_service_per_state_dir(tmp_path: Path) -> None:
    import fcntl

    state = tmp_path / "state"
    state.mkdir()
    with open(state / "serve.lock", "wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert serve("127.0.0.1", 1, 1, state, max_body_bytes=1, max_elements=1,
                     job_timeout_s=1) == 2
