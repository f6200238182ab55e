"""The benchmark cases of the local kernels: what the issue's bar is measured on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import supervm


@dataclass(frozen=True)
class Case:
    """One kernel measured against its peers on one generated input."""

    name: str
    make_input: Callable[[int], np.ndarray]
    size: int
    ours: Callable[[np.ndarray], object]
    peers: dict[str, Callable[[np.ndarray], object]]
    target: float  # the speed-up over numpy the issue asks for


def uniform_ints(dtype: str) -> Callable[[int], np.ndarray]:
    """Return a maker of `n` integers uniform over the whole range of `dtype`."""
    def make(n: int) -> np.ndarray:
        info = np.iinfo(dtype)
        return np.random.default_rng(1).integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    return make


def normal_floats(dtype: str) -> Callable[[int], np.ndarray]:
    """Return a maker of `n` standard-normal floats of `dtype`."""
    def make(n: int) -> np.ndarray:
        return np.random.default_rng(2).standard_normal(n).astype(dtype)
    return make


M = 1_000_000

CASES = [
    Case("sort int64", uniform_ints("int64"), 50 * M, supervm.sort, {"numpy": np.sort}, 2.0),
    Case("sort float64", normal_floats("float64"), 50 * M, supervm.sort, {"numpy": np.sort}, 2.0),
    Case("sort int32", uniform_ints("int32"), 50 * M, supervm.sort, {"numpy": np.sort}, 1.6),
    Case("sort float32", normal_floats("float32"), 50 * M, supervm.sort, {"numpy": np.sort}, 1.6),
    Case("argsort int64 (stable)", uniform_ints("int64"), 10 * M, supervm.argsort,
         {"numpy": lambda a: np.argsort(a, kind="stable")}, 5.0),
    Case("sum float64", normal_floats("float64"), 100 * M, supervm.sum, {"numpy": np.sum}, 1.7),
    Case("min float64", normal_floats("float64"), 100 * M, supervm.min, {"numpy": np.min}, 1.7),
    Case("max float64", normal_floats("float64"), 100 * M, supervm.max, {"numpy": np.max}, 1.7),
    Case("mean float64", normal_floats("float64"), 100 * M, supervm.mean, {"numpy": np.mean}, 1.7),
    Case("var float64", normal_floats("float64"), 100 * M, supervm.var, {"numpy": np.var}, 5.0),
    Case("histogram float64 (256 bins)", normal_floats("float64"), 100 * M,
         lambda a: supervm.histogram(a, 256), {"numpy": lambda a: np.histogram(a, 256)}, 10.0),
]
