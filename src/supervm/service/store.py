"""The job store: every task's spec, state transitions, result and error, in SQLite (WAL).

One connection, used only from the event loop's thread, is the one writer. WAL with
synchronous=NORMAL keeps a commit to a write-ahead append (no fsync per task) while a crash
of the service still loses no committed task; a power cut may lose the last few.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Every state a task can be in; the last three are final.
STATES = ("queued", "running", "done", "failed", "cancelled")
FINAL_STATES = ("done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    spec TEXT NOT NULL,
    hints TEXT,
    created_at REAL NOT NULL,
    queued_at REAL,
    started_at REAL,
    finished_at REAL,
    run_dir TEXT,
    result TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS tasks_state_seq ON tasks (state, seq);
CREATE INDEX IF NOT EXISTS tasks_kind ON tasks (kind);
CREATE TABLE IF NOT EXISTS transitions (
    task_id TEXT NOT NULL,
    state TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_task ON transitions (task_id);
"""


@dataclass(frozen=True)
class Task:
    """One row of the tasks table, JSON columns parsed."""

    id: str
    kind: str
    state: str
    spec: dict[str, Any]
    hints: dict[str, Any] | None
    created_at: float
    queued_at: float | None
    started_at: float | None
    finished_at: float | None
    run_dir: str | None
    result: dict[str, Any] | None
    error: str | None

    @property
    def final(self) -> bool:
        """Return whether the task will not change state again."""
        return self.state in FINAL_STATES


_COLUMNS = ("id, kind, state, spec, hints, created_at, queued_at, started_at, finished_at, "
            "run_dir, result, error")


def _task(row: tuple[Any, ...]) -> Task:
    (id_, kind, state, spec, hints, created, queued, started, finished, run_dir, result,
     error) = row
    return Task(id_, kind, state, json.loads(spec), json.loads(hints) if hints else None,
                created, queued, started, finished, run_dir,
                json.loads(result) if result else None, error)


class Store:
    """The tasks and their transitions in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database (checkpointing the WAL)."""
        self.db.close()

    def _transition(self, task_id: str, state: str, at: float) -> None:
        self.db.execute("INSERT INTO transitions (task_id, state, at) VALUES (?, ?, ?)",
                        (task_id, state, at))

    def add(self, kind: str, spec: dict[str, Any], hints: dict[str, Any] | None = None,
            run_dirs: Path | None = None) -> Task:
        """Store a new queued task and return it."""
        now = time.time()
        task_id = uuid.uuid4().hex
        run_dir = str(run_dirs / task_id) if run_dirs is not None else None
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT INTO tasks (id, kind, state, spec, hints, created_at, queued_at, run_dir)"
                " VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
                (task_id, kind, json.dumps(spec), json.dumps(hints) if hints else None, now, now,
                 run_dir))
            self._transition(task_id, "queued", now)
        return Task(task_id, kind, "queued", spec, hints or None, now, now, None, None, run_dir,
                    None, None)

    def get(self, task_id: str) -> Task | None:
        """Return the task with this id, or None."""
        row = self.db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return _task(row) if row else None

    def next_queued(self) -> Task | None:
        """Return the oldest queued task, or None."""
        row = self.db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE state = 'queued' "
                              "ORDER BY seq LIMIT 1").fetchone()
        return _task(row) if row else None

    def _move(self, task_id: str, from_states: Iterable[str], state: str,
              **columns: Any) -> Task | None:
        """Move a task from one of `from_states` to `state`; return it moved, else None."""
        now = time.time()
        froms = tuple(from_states)
        stamp = {"running": "started_at", "queued": "queued_at"}.get(state, "finished_at")
        columns[stamp] = now
        sets = ", ".join(f"{name} = ?" for name in columns)
        marks = ", ".join("?" * len(froms))
        with self.db:
            self.db.execute("BEGIN")
            row = self.db.execute(
                f"UPDATE tasks SET state = ?, {sets} WHERE id = ? AND state IN ({marks}) "
                f"RETURNING {_COLUMNS}", (state, *columns.values(), task_id, *froms)).fetchone()
            if row is not None:
                self._transition(task_id, state, now)
        return _task(row) if row is not None else None

    def start(self, task_id: str) -> Task | None:
        """Mark a queued task running."""
        return self._move(task_id, ["queued"], "running")

    def finish(self, task_id: str, result: dict[str, Any]) -> Task | None:
        """Mark a running task done with its result summary."""
        return self._move(task_id, ["running"], "done", result=json.dumps(result))

    def fail(self, task_id: str, error: str) -> Task | None:
        """Mark a queued or running task failed with the reason."""
        return self._move(task_id, ["queued", "running"], "failed", error=error)

    def cancel(self, task_id: str, reason: str = "cancelled by request") -> Task | None:
        """Mark a queued or running task cancelled."""
        return self._move(task_id, ["queued", "running"], "cancelled", error=reason)

    def fail_interrupted(self, reason: str) -> list[str]:
        """Mark every running task failed (the service or world died under it); return ids."""
        ids = [row[0] for row in self.db.execute("SELECT id FROM tasks WHERE state = 'running'")]
        for task_id in ids:
            self.fail(task_id, reason)
        return ids

    def list(self, state: str | None = None, kind: str | None = None, offset: int = 0,
             limit: int = 50) -> tuple[list[Task], int]:
        """Return a page of tasks, newest first, and how many match in all."""
        where, args = [], []
        if state is not None:
            where.append("state = ?")
            args.append(state)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self.db.execute(f"SELECT COUNT(*) FROM tasks {clause}", args).fetchone()[0]
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM tasks {clause} ORDER BY seq DESC "
                               "LIMIT ? OFFSET ?", (*args, limit, offset)).fetchall()
        return [_task(r) for r in rows], total

    def transitions(self, task_id: str) -> list[tuple[str, float]]:
        """Return a task's (state, time) transitions in order."""
        return list(self.db.execute("SELECT state, at FROM transitions WHERE task_id = ? "
                                    "ORDER BY rowid", (task_id,)))

    def counts(self) -> dict[tuple[str, str], int]:
        """Return the number of tasks by (kind, state)."""
        rows = self.db.execute("SELECT kind, state, COUNT(*) FROM tasks GROUP BY kind, state")
        return {(kind, state): n for kind, state, n in rows}

    def queue_length(self) -> int:
        """Return the number of queued tasks."""
        return self.db.execute("SELECT COUNT(*) FROM tasks WHERE state = 'queued'").fetchone()[0]

    def recent_durations(self, limit: int = 1000) -> list[tuple[float, float, float]]:
        """Return (created, started, finished) of the latest finished-and-run tasks."""
        return list(self.db.execute(
            "SELECT created_at, started_at, finished_at FROM tasks WHERE state = 'done' "
            "ORDER BY seq DESC LIMIT ?", (limit,)))

    def finished_since(self, since: float) -> int:
        """Return how many tasks reached a final state after `since`."""
        return self.db.execute("SELECT COUNT(*) FROM tasks WHERE finished_at >= ?",
                               (since,)).fetchone()[0]
