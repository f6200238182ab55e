"""An undo stack: each step a run takes pushes its inverse; unwinding runs them newest first."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived; raised so the stack unwinds like on any error."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@dataclass
class UndoStack:
    """Inverse actions, run newest first; a failing step is reported and the rest still run."""

    steps: list[tuple[str, Callable[[], object]]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)

    def push(self, description: str, undo: Callable[[], object]) -> None:
        """Remember how to undo the step just taken."""
        self.steps.append((description, undo))

    def discard(self) -> None:
        """Forget every step (the resources now outlive this stack, e.g. after `up`)."""
        self.steps.clear()

    def unwind(self) -> list[str]:
        """Undo every step, newest first; return the descriptions of the steps that failed."""
        while self.steps:
            description, undo = self.steps.pop()
            try:
                undo()
            except Exception as exc:  # one broken step must not leave the rest behind
                line = f"undo failed: {description}: {type(exc).__name__}: {exc}"
                self.failures.append(line)
                self.log(line)
        return list(self.failures)


@contextmanager
def signals_raise() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into Interrupted for the duration (main thread only)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # a worker thread (the service's): its process handles signals itself
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def undo_on_failure(stack: UndoStack) -> Iterator[UndoStack]:
    """Unwind `stack` if the body raises (errors, Ctrl-C, SIGTERM), then re-raise."""
    with signals_raise():
        try:
            yield stack
        except BaseException:
            # A second signal during cleanup must not cut it short.
            with _ignoring_signals():
                stack.unwind()
            raise


@contextmanager
def _ignoring_signals() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT,
                                                                      signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
