"""The undo stack: newest first, past failing steps, on errors and on SIGTERM."""

from __future__ import annotations

import os
import signal
import time

import pytest

from supervm.launcher.undo import Interrupted, UndoStack, undo_on_failure


def test_unwinds_newest_first_and_past_failures() -> None:
    done: list[str] = []
    logged: list[str] = []
    stack = UndoStack(log=logged.append)
    stack.push("a", lambda: done.append("a"))
    stack.push("broken", lambda: 1 / 0)
    stack.push("c", lambda: done.append("c"))
    failures = stack.unwind()
    assert done == ["c", "a"]
    assert len(failures) == 1 and "broken" in failures[0] and "ZeroDivisionError" in failures[0]
    assert logged == failures
    assert stack.unwind() == failures  # nothing left to run twice
    assert done == ["c", "a"]


def test_error_in_body_unwinds_and_reraises() -> None:
    done: list[str] = []
    stack = UndoStack(log=lambda _: None)
    with pytest.raises(RuntimeError, match="phase 3"), undo_on_failure(stack):
        stack.push("one", lambda: done.append("one"))
        stack.push("two", lambda: done.append("two"))
        raise RuntimeError("phase 3")
    assert done == ["two", "one"]


def test_success_keeps_steps_for_later() -> None:
    stack = UndoStack()
    with undo_on_failure(stack):
        stack.push("x", lambda: None)
    assert len(stack.steps) == 1


def test_sigterm_unwinds() -> None:
    done: list[str] = []
    before = signal.getsignal(signal.SIGTERM)
    stack = UndoStack(log=lambda _: None)
    with pytest.raises(Interrupted) as caught, undo_on_failure(stack):
        stack.push("guest", lambda: done.append("guest"))
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert caught.value.signum == signal.SIGTERM
    assert done == ["guest"]
    assert signal.getsignal(signal.SIGTERM) is before
