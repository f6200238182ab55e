"""supervm: fast sort, reductions and rendering kernels for one MPI "Super VM".

The local API works on numpy arrays in one process; `supervm.dist` runs the same kernels
across MPI ranks.
"""

from supervm._checks import SUPPORTED_DTYPES
from supervm._core import cpu_count
from supervm.partials import HistogramState, MinMaxState, MomentState, SumState
from supervm.reductions import (
    histogram,
    histogram_edges,
    histogram_state,
    max,
    mean,
    min,
    minmax_state,
    moment_state,
    std,
    sum,
    sum_state,
    uniform_edges,
    var,
)
from supervm.rendering import render, save_image
from supervm.sorting import argsort, release_scratch, sort

__version__ = "0.1.0"

__all__ = [
    "SUPPORTED_DTYPES",
    "HistogramState",
    "MinMaxState",
    "MomentState",
    "SumState",
    "__version__",
    "argsort",
    "cpu_count",
    "histogram",
    "histogram_edges",
    "histogram_state",
    "max",
    "mean",
    "min",
    "minmax_state",
    "moment_state",
    "release_scratch",
    "render",
    "save_image",
    "sort",
    "std",
    "sum",
    "sum_state",
    "uniform_edges",
    "var",
]
