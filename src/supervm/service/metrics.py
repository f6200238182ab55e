"""Prometheus metrics (one registry per app) and the JSON summary of /api/super-vm/metrics."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from supervm.service.store import STATES, Store

#: Bucket edges (seconds) from a tiny job through the world to a long sort.
_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


class _StoreCollector(Collector):
    """Tasks by kind and state and the queue depth, read from the store at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        tasks = GaugeMetricFamily("supervm_tasks", "Tasks in the store by kind and state",
                                  labels=["kind", "state"])
        for (kind, state), n in sorted(self.store.counts().items()):
            tasks.add_metric([kind, state], n)
        yield tasks
        yield GaugeMetricFamily("supervm_queue_depth", "Tasks waiting for the world",
                                value=self.store.queue_length())


class Metrics:
    """The service's counters, gauges and histograms."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.finished = Counter("supervm_jobs_finished", "Jobs finished since start, by kind "
                                "and final state", ["kind", "state"], registry=self.registry)
        self.duration = Histogram("supervm_job_duration_seconds", "Seconds a job ran in the "
                                  "world", ["kind"], buckets=_BUCKETS, registry=self.registry)
        self.latency = Histogram("supervm_job_latency_seconds", "Seconds from submission to a "
                                 "final state", ["kind"], buckets=_BUCKETS, registry=self.registry)
        self.world_restarts = Counter("supervm_world_restarts", "Times the MPI world was "
                                      "restarted after it died or was stopped",
                                      registry=self.registry)
        self.world_ranks = Gauge("supervm_world_ranks", "Ranks of the running world (0: down)",
                                 registry=self.registry)
        self.registry.register(_StoreCollector(store))

    def observe_finish(self, kind: str, state: str, created: float, started: float | None,
                       finished: float) -> None:
        """Count a task reaching a final state and record its times."""
        self.finished.labels(kind, state).inc()
        self.latency.labels(kind).observe(max(0.0, finished - created))
        if started is not None:
            self.duration.labels(kind).observe(max(0.0, finished - started))


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1],
            "mean": statistics.fmean(ordered)}


def summary(store: Store, window_s: float = 60.0) -> dict[str, Any]:
    """Return jobs by state, run and submit-to-done times of recent jobs, and throughput."""
    by_state = dict.fromkeys(STATES, 0)
    by_kind: dict[str, dict[str, int]] = {}
    for (kind, state), n in store.counts().items():
        by_state[state] = by_state.get(state, 0) + n
        by_kind.setdefault(kind, {})[state] = n
    recent = store.recent_durations()
    now = time.time()
    return {
        "jobs": {"by_state": by_state, "by_kind": by_kind, "total": sum(by_state.values())},
        "durations_s": {
            "sample": len(recent),
            "run": _quantiles([f - s for _, s, f in recent if s is not None]),
            "submit_to_done": _quantiles([f - c for c, _, f in recent]),
        },
        "throughput": {"window_s": window_s,
                       "jobs_per_s": store.finished_since(now - window_s) / window_s},
    }
