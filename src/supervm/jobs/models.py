"""Job specs: one pydantic model per kind, in one union discriminated by `kind`.

The same model is a JSON job file, the body of the service's process request and the
argument of `supervm.jobs.run`. Render joins the union in its own module.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from supervm.jobs.inputs import Input
from supervm.jobs.render_model import RenderJob


class JobBase(BaseModel):
    """Fields every job has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Input = Field(description="where the data comes from (one of the forms below)")
    threads: int = Field(1, ge=1, description="kernel threads per rank")
    ranks: int | None = Field(
        None, ge=1, description="ranks `supervm run` starts when --np is not given (default 1)"
    )


class SortJob(JobBase):
    """Sort the data; write each rank's sorted block (or one gathered file)."""

    kind: Literal["sort"] = Field(description="the job kind")
    rebalance: bool = Field(
        False, description="move data so every rank ends with as many items as it started with"
    )
    gather: bool = Field(False, description="write one .npy of the whole result, not one per rank")
    method: Literal["auto", "partition", "presort"] = Field(
        "auto",
        description="partition: cut, exchange, sort once; presort: sort, exchange, merge; "
        "auto: partition up to 8 ranks",
    )


class ArgsortJob(SortJob):
    """Stable argsort: write the global int64 indices that sort the data."""

    kind: Literal["argsort"] = Field(description="the job kind")  # type: ignore[assignment]


class SumJob(JobBase):
    """Sum of every element (numpy's dtype; exact for integers)."""

    kind: Literal["sum"] = Field(description="the job kind")


class MinJob(JobBase):
    """Smallest element (NaN if any element is NaN)."""

    kind: Literal["min"] = Field(description="the job kind")


class MaxJob(JobBase):
    """Largest element (NaN if any element is NaN)."""

    kind: Literal["max"] = Field(description="the job kind")


class MeanJob(JobBase):
    """Mean of every element."""

    kind: Literal["mean"] = Field(description="the job kind")


class VarJob(JobBase):
    """Variance of every element."""

    kind: Literal["var"] = Field(description="the job kind")
    ddof: float = Field(0, description="delta degrees of freedom (the divisor is n - ddof)")

    @field_validator("ddof")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("ddof must be finite")
        return value


class StdJob(VarJob):
    """Standard deviation of every element."""

    kind: Literal["std"] = Field(description="the job kind")  # type: ignore[assignment]


class HistogramJob(JobBase):
    """Counts over uniform bins, as numpy.histogram."""

    kind: Literal["histogram"] = Field(description="the job kind")
    bins: int = Field(10, gt=0, description="number of uniform bins")
    range: tuple[float, float] | None = Field(
        None, description="[low, high] of the bins; default the data's min and max"
    )

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None:
            low, high = value
            if not (math.isfinite(low) and math.isfinite(high)):
                raise ValueError("range must be finite")
            if low > high:
                raise ValueError("range must have low <= high")
        return value


SORT_KINDS = ("sort", "argsort")
#: The kinds that compute on an input array.
DATA_MODELS: tuple[type[JobBase], ...] = (
    SortJob, ArgsortJob, SumJob, MinJob, MaxJob, MeanJob, VarJob, StdJob, HistogramJob,
)
JOB_MODELS: tuple[type[BaseModel], ...] = (*DATA_MODELS, RenderJob)
KINDS = tuple(model.model_fields["kind"].annotation.__args__[0] for model in JOB_MODELS)

JobSpec = Annotated[
    SortJob | ArgsortJob | SumJob | MinJob | MaxJob | MeanJob | VarJob | StdJob | HistogramJob
    | RenderJob,
    Field(discriminator="kind"),
]

job_adapter: TypeAdapter[JobSpec] = TypeAdapter(JobSpec)
