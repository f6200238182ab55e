"""Run one job on every rank of a communicator: load, compute, write, report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from mpi4py import MPI

import supervm
from supervm import dist
from supervm.dist._mpi import agree, offsets_of, resolve_comm
from supervm.jobs.inputs import RandomInput
from supervm.jobs.loading import input_dtype, input_size, load_block
from supervm.jobs.models import SORT_KINDS, HistogramJob, JobSpec, VarJob
from supervm.jobs.output import create_npy, fill_npy, new_run_dir, write_json, write_npy
from supervm.jobs.render_model import RenderJob
from supervm.jobs.validation import parse_job

T = TypeVar("T")


def _together(comm: MPI.Comm, step: Callable[[], T]) -> T:
    """Run `step` on every rank; if any rank fails, fail on every rank (no one waits)."""
    kept: list[T] = []
    agree(comm, lambda: kept.append(step()))
    return kept[0]


def _progress_printer(kind: str, ranks: int) -> dist.Profile:
    started = time.perf_counter()

    def report(phase: str, seconds: float) -> None:
        print(f"supervm: {kind} on {ranks} rank{'s' if ranks != 1 else ''}: {phase} "
              f"{seconds:.3f} s (at {time.perf_counter() - started:.1f} s)",
              file=sys.stderr, flush=True)

    return dist.Profile(on_phase=report)


def _compute_reduction(spec: JobSpec, block: np.ndarray, comm: MPI.Comm,
                       prof: dist.Profile) -> Any:
    """Return the reduction's value, the same on every rank."""
    common = {"threads": spec.threads, "profile": prof}
    if isinstance(spec, HistogramJob):
        counts, edges = dist.histogram(block, spec.bins, spec.range, comm, **common)
        return {"counts": counts, "edges": edges}
    if isinstance(spec, VarJob):  # also StdJob
        return getattr(dist, spec.kind)(block, comm, ddof=spec.ddof, **common)
    return getattr(dist, spec.kind)(block, comm, **common)


def _write_sorted(spec: JobSpec, out: Path, block: np.ndarray, comm: MPI.Comm) -> dict[str, Any]:
    """Write the sorted blocks (one file per rank, or one gathered file); return the summary."""
    rank, size = comm.Get_rank(), comm.Get_size()
    stem = "sorted" if spec.kind == "sort" else "indices"
    counts = np.array(comm.allgather(int(block.size)), dtype=np.int64)
    starts = offsets_of(counts)
    if spec.gather:
        final = out / f"{stem}.npy"
        temp = Path(agree(comm, lambda: str(create_npy(final, block.dtype, int(counts.sum())))
                          if rank == 0 else None)[0])
        _together(comm, lambda: fill_npy(temp, int(starts[rank]), block))
        _together(comm, lambda: temp.replace(final) if rank == 0 else None)
        return {"file": final.name}
    name = f"{stem}-r{rank:05d}.npy"
    _together(comm, lambda: write_npy(out / name, block))
    blocks = [{"rank": r, "file": f"{stem}-r{r:05d}.npy", "start": int(starts[r]),
               "count": int(counts[r])} for r in range(size)]
    manifest = {"kind": spec.kind, "dtype": str(block.dtype), "n": int(counts.sum()),
                "ranks": size, "blocks": blocks}
    _together(comm, lambda: write_json(out / f"{stem}.manifest.json", manifest)
              if rank == 0 else None)
    return {"manifest": f"{stem}.manifest.json"}


def _prepare_run_dir(comm: MPI.Comm, out: str | Path | None) -> Path:
    """Create the run directory on rank 0 and return its path on every rank."""
    def make() -> str | None:
        if comm.Get_rank() != 0:
            return None
        if out is None:
            return str(new_run_dir())
        Path(out).mkdir(parents=True, exist_ok=True)
        return str(out)

    return Path(agree(comm, make)[0])


def _balance(counts: list[int]) -> dict[str, float]:
    mean = sum(counts) / len(counts)
    return {"max": max(counts), "mean": mean, "max_over_mean": max(counts) / mean if mean else 1.0}


def run(spec: JobSpec | dict[str, Any], comm: MPI.Comm | None = None, *,
        out: str | Path | None = None, progress: bool = False) -> dict[str, Any]:
    """Run `spec` on every rank of `comm`; write its outputs under `out` and return the report.

    Every rank must call this with the same spec. The report (also `out/result.json`)
    holds the result of a reduction, per-rank phase times, bytes moved and the balance.
    """
    started_at = time.time()
    started = time.perf_counter()
    comm = resolve_comm(comm)
    spec = parse_job(spec) if isinstance(spec, dict) else spec
    rank, size = comm.Get_rank(), comm.Get_size()
    out_dir = _prepare_run_dir(comm, out)
    if isinstance(spec, RenderJob):
        return _run_render(spec, comm, out_dir, progress, started_at)
    prof = _progress_printer(spec.kind, size) if progress and rank == 0 else dist.Profile()
    source = spec.input
    sorting = spec.kind in SORT_KINDS
    with prof.phase("generate" if isinstance(source, RandomInput) else "load"):
        block = _together(comm, lambda: load_block(source, size, rank, in_memory=sorting))
    report: dict[str, Any] = {}
    if sorting:
        sort_call = dist.sort if spec.kind == "sort" else dist.argsort
        result = sort_call(block, comm, rebalance=spec.rebalance, threads=spec.threads,
                           method=spec.method, profile=prof)
        del block
        with prof.phase("write"):
            report["output"] = _write_sorted(spec, out_dir, result, comm)
    else:
        report["result"] = _compute_reduction(spec, block, comm, prof)
    profiles = comm.gather(prof.as_dict(), root=0)

    def finish() -> dict[str, Any] | None:
        if rank != 0:
            return None
        full = _report(spec, out_dir, size, profiles, report, started_at,
                       time.perf_counter() - started)
        write_json(out_dir / "result.json", full)
        return full

    return comm.bcast(_together(comm, finish), root=0)


def _run_render(spec: RenderJob, comm: MPI.Comm, out_dir: Path, progress: bool,
                started_at: float) -> dict[str, Any]:
    """Run a render job; rank 0 writes result.json; every rank returns the report."""
    from supervm.jobs.render_run import run_render

    report = run_render(spec, comm, out_dir, progress, started_at)
    _together(comm, lambda: write_json(out_dir / "result.json", report)
              if comm.Get_rank() == 0 else None)
    return report


def _report(spec: JobSpec, out_dir: Path, size: int, profiles: list[dict[str, Any]],
            outcome: dict[str, Any], started_at: float, wall: float) -> dict[str, Any]:
    """Return the run's report from every rank's profile (rank 0 only)."""
    phase_names: list[str] = []
    for p in profiles:
        phase_names += [name for name in p["phases"] if name not in phase_names]
    counts_out = [p["count_out"] for p in profiles]
    return {
        "job": spec.model_dump(mode="json"),
        "kind": spec.kind,
        "ranks": size,
        "n": input_size(spec.input),
        "dtype": str(input_dtype(spec.input)),
        "run_dir": str(out_dir),
        **outcome,
        "phases": {name: [p["phases"].get(name, 0.0) for p in profiles] for name in phase_names},
        "sent_bytes": [p["sent_bytes"] for p in profiles],
        "received_bytes": [p["received_bytes"] for p in profiles],
        "counts": {"in": [p["count_in"] for p in profiles], "out": counts_out},
        "balance": _balance(counts_out),
        "wall_seconds": wall,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started_at)),
        "supervm_version": supervm.__version__,
        "mpi_library": MPI.Get_library_version().splitlines()[0].strip(),
    }
