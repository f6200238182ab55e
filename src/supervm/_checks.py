"""Validation at the edge of the local API: dtypes, shapes, thread counts, backends."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

#: The dtypes every kernel accepts, in their native byte order.
SUPPORTED_DTYPES: tuple[np.dtype, ...] = tuple(
    np.dtype(t) for t in ("int32", "int64", "uint32", "uint64", "float32", "float64")
)

BACKENDS = ("auto", "cpu", "cupy")


def as_kernel_array(a: Any, name: str = "a") -> np.ndarray:
    """Return `a` as a C-contiguous array of a supported dtype, without copying if it is one."""
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray, got {type(a).__name__}; "
            "wrap lists with numpy.asarray first"
        )
    if a.dtype.newbyteorder("=") not in SUPPORTED_DTYPES:
        names = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise TypeError(f"{name} has unsupported dtype {a.dtype}; supported: {names}")
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    # A contiguous array passes through untouched; anything else is copied once.
    # (np.ascontiguousarray would also turn a 0-d array into a 1-d one.)
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def as_1d(a: np.ndarray, name: str = "a") -> np.ndarray:
    """Reject anything but a 1-D array (sorts are defined on sequences)."""
    if a.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got {a.ndim}-D with shape {a.shape}; "
            "pass a.ravel() to sort all elements"
        )
    return a


def flat(a: np.ndarray) -> np.ndarray:
    """Return a 1-D view over every element of a C-contiguous array."""
    return a.reshape(-1)


def resolve_threads(threads: int | None) -> int:
    """Return the thread count for the kernels: 0 means every core."""
    if threads is None:
        return 0
    if isinstance(threads, bool):
        raise TypeError("threads must be an int or None, got bool")
    try:
        value = operator.index(threads)
    except TypeError:
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}") from None
    if value < 1:
        raise ValueError(f"threads must be >= 1 (or None for every core), got {value}")
    return value


def resolve_backend(backend: str) -> str:
    """Return the concrete backend ("cpu" or "cupy") for a backend name."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "cupy":
        try:
            import cupy  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "backend='cupy' needs CuPy, which is not installed; install the 'gpu' extra "
                "(pip install 'supervm[gpu]') on a machine with CUDA, or use backend='cpu'"
            ) from None
        raise NotImplementedError(
            "backend='cupy': the GPU kernels are not part of this build yet; use backend='cpu'"
        )
    return "cpu"
