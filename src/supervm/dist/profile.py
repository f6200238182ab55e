"""Per-rank record of where a distributed call spent its time and how much data it moved."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PhaseHook = Callable[[str, float], None]


@dataclass
class Profile:
    """Phase wall times (seconds, in order) and bytes sent to / received from other ranks."""

    phases: dict[str, float] = field(default_factory=dict)
    sent_bytes: int = 0
    received_bytes: int = 0
    count_in: int = 0
    count_out: int = 0
    on_phase: PhaseHook | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the body as phase `name` (adding to it if it ran before)."""
        start = time.perf_counter()
        yield
        self.record(name, time.perf_counter() - start)

    def record(self, name: str, seconds: float) -> None:
        """Add `seconds` to phase `name` and tell the hook."""
        self.phases[name] = self.phases.get(name, 0.0) + seconds
        if self.on_phase is not None:
            self.on_phase(name, seconds)

    def as_dict(self) -> dict[str, Any]:
        """Return the record as plain JSON-ready values."""
        return {
            "phases": dict(self.phases),
            "sent_bytes": self.sent_bytes,
            "received_bytes": self.received_bytes,
            "count_in": self.count_in,
            "count_out": self.count_out,
        }


def profile_or_new(profile: Profile | None) -> Profile:
    """Return `profile`, or a throwaway one so algorithms can always record."""
    return Profile() if profile is None else profile
