"""Where a job's data comes from: inline values, an .npy file, or a seeded generator."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from supervm.paths import PathText

DType = Literal["int32", "int64", "uint32", "uint64", "float32", "float64"]
Distribution = Literal[
    "uniform", "normal", "zipf", "sorted", "reversed", "few-distinct", "all-equal"
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class InlineInput(BaseModel):
    """Values written in the job itself (small data)."""

    model_config = _STRICT

    values: list[int | float] = Field(description="the data, in global order")
    dtype: DType | None = Field(
        None, description="element type; default int64 if every value is an integer, else float64"
    )

    @model_validator(mode="after")
    def _values_fit_dtype(self) -> InlineInput:
        dtype = np.dtype(self.resolved_dtype())
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            for i, v in enumerate(self.values):
                if isinstance(v, float) and not v.is_integer():
                    raise ValueError(f"values[{i}] = {v} is not an integer but dtype is {dtype}")
                if not info.min <= v <= info.max:
                    raise ValueError(f"values[{i}] = {v} does not fit in {dtype}")
        return self

    def resolved_dtype(self) -> str:
        """Return the element type: the given one, or the one the values imply."""
        if self.dtype is not None:
            return self.dtype
        return "int64" if all(isinstance(v, int) for v in self.values) else "float64"


class NpyInput(BaseModel):
    """A 1-D (or C-ordered n-D) .npy file; each rank memory-maps only its own block."""

    model_config = _STRICT

    npy: PathText = Field(
        min_length=1,
        description="path of the .npy file; relative paths are relative to the job file",
    )


class RandomSpec(BaseModel):
    """A seeded generator whose data is the same for any number of ranks."""

    model_config = _STRICT

    n: int = Field(gt=0, description="number of elements")
    dtype: DType = Field("float64", description="element type")
    dist: Distribution = Field(
        "uniform",
        description=(
            "uniform (floats in [0, 1), integers over the whole type), normal (floats N(0, 1); "
            "integers round(1e6 z), unsigned shifted by 2**31), zipf (power law P(k) ~ "
            "k**-1.3 over integers >= 1, capped at 2**31-1), sorted, reversed, few-distinct "
            "(4 values), all-equal"
        ),
    )
    seed: int = Field(0, ge=0, description="generator seed")


class RandomInput(BaseModel):
    """Generated data: `{"random": {"n": ..., "dtype": ..., "dist": ..., "seed": ...}}`."""

    model_config = _STRICT

    random: RandomSpec = Field(description="the generator")


def _input_tag(value: Any) -> str | None:
    """Return which input form `value` is, by the key it carries."""
    keys = value.keys() if isinstance(value, dict) else vars(value) if isinstance(
        value, BaseModel) else ()
    for tag in ("values", "npy", "random"):
        if tag in keys:
            return tag
    return None


Input = Annotated[
    Annotated[InlineInput, Tag("values")]
    | Annotated[NpyInput, Tag("npy")]
    | Annotated[RandomInput, Tag("random")],
    Discriminator(
        _input_tag,
        custom_error_type="input_form",
        custom_error_message="Input should have one of the keys 'values', 'npy' or 'random'",
    ),
]

#: Union tags pydantic puts in error locations; error messages leave them out.
INPUT_TAGS = ("values", "npy", "random")
