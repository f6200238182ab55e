"""supervm.jobs: job specs (pydantic models), their inputs and outputs, and the runner.

`run(spec, comm)` is the Python door; `supervm run job.json` and the service use the same
models.
"""

from pathlib import Path
from typing import Any

from supervm.jobs.inputs import InlineInput, NpyInput, RandomInput, RandomSpec
from supervm.jobs.models import (
    KINDS,
    ArgsortJob,
    HistogramJob,
    JobSpec,
    MaxJob,
    MeanJob,
    MinJob,
    SortJob,
    StdJob,
    SumJob,
    VarJob,
    job_adapter,
)
from supervm.jobs.render_model import QUALITY_SPP, FrameRange, RenderJob, seed_render_job
from supervm.jobs.validation import JobError, load_job_file, parse_job


def run(
    spec: JobSpec | dict[str, Any],
    comm: Any = None,
    *,
    out: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run `spec` on every rank of `comm` (COMM_WORLD) and return its report.

    Imports mpi4py (which starts MPI) only here, so validating jobs never does.
    """
    from supervm.jobs.runner import run as run_job

    return run_job(spec, comm, out=out, progress=progress)


__all__ = [
    "KINDS",
    "QUALITY_SPP",
    "ArgsortJob",
    "FrameRange",
    "HistogramJob",
    "InlineInput",
    "JobError",
    "JobSpec",
    "MaxJob",
    "MeanJob",
    "MinJob",
    "NpyInput",
    "RandomInput",
    "RandomSpec",
    "RenderJob",
    "SortJob",
    "StdJob",
    "SumJob",
    "VarJob",
    "job_adapter",
    "load_job_file",
    "parse_job",
    "run",
    "seed_render_job",
]
