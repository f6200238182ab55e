"""Every bad input gets a clear TypeError or ValueError naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

import supervm

KERNELS = [supervm.sort, supervm.argsort, supervm.sum, supervm.min, supervm.max,
           supervm.mean, supervm.var, supervm.std, supervm.histogram]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_non_arrays_are_rejected(kernel) -> None:
    with pytest.raises(TypeError, match=r"numpy\.ndarray"):
        kernel([3, 1, 2])


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "float16", "bool", "complex128",
                                   "object", "U3", "datetime64[s]"])
def test_unsupported_dtypes_are_named(kernel, dtype: str) -> None:
    with pytest.raises(TypeError, match="unsupported dtype"):
        kernel(np.zeros(3, dtype=dtype))


@pytest.mark.parametrize("kernel", [supervm.sort, supervm.argsort], ids=lambda k: k.__name__)
def test_sorts_want_one_dimension(kernel) -> None:
    with pytest.raises(ValueError, match="must be 1-D"):
        kernel(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="must be 1-D"):
        kernel(np.array(1.0))


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("threads", [0, -1])
def test_thread_counts_below_one_are_rejected(kernel, threads: int) -> None:
    with pytest.raises(ValueError, match="threads must be >= 1"):
        kernel(np.ones(3), threads=threads)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_thread_count_must_be_an_int(kernel) -> None:
    with pytest.raises(TypeError, match="threads must be an int"):
        kernel(np.ones(3), threads=1.5)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_unknown_backend_is_rejected(kernel) -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        kernel(np.ones(3), backend="tpu")


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_cupy_backend_without_cupy_says_so(kernel) -> None:
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="CuPy, which is not installed"):
            kernel(np.ones(3), backend="cupy")
    else:
        pytest.skip("CuPy is installed here: the absent-CuPy error cannot be observed")


@pytest.mark.parametrize("bins", [0, -3])
def test_histogram_bins_must_be_positive(bins: int) -> None:
    with pytest.raises(ValueError, match="bins must be a positive int"):
        supervm.histogram(np.ones(3), bins)


@pytest.mark.parametrize("bins", [2.5, "10", np.array([0.0, 1.0, 2.0]), True])
def test_histogram_bins_must_be_an_int(bins) -> None:
    with pytest.raises(TypeError, match="bins must be a positive int"):
        supervm.histogram(np.ones(3), bins)


@pytest.mark.parametrize(
    ("range_", "error", "message"),
    [
        ((2.0, 1.0), ValueError, "min <= max"),
        ((0.0, np.inf), ValueError, "must be finite"),
        ((np.nan, 1.0), ValueError, "must be finite"),
        ((1.0,), ValueError, "pair"),
        (5, ValueError, "pair"),
        (("a", "b"), TypeError, "real numbers"),
        ((-1e308, 1e308), ValueError, "too wide"),
    ],
)
def test_histogram_bad_ranges(range_, error, message: str) -> None:
    with pytest.raises(error, match=message):
        supervm.histogram(np.ones(3), 4, range_)


def test_histogram_too_many_bins_for_range() -> None:
    with pytest.raises(ValueError, match="too many bins"):
        supervm.histogram(np.array([1.0, np.nextafter(1.0, 2.0)]), 1000)


def test_ddof_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="ddof"):
        supervm.var(np.ones(3), ddof="1")


def test_fetch_add_returns_the_old_value_and_refuses_slots_outside() -> None:
    from supervm import _core

    counters = np.zeros(2, dtype=np.int64)
    assert _core.fetch_add(counters, 1, 5) == 0 and _core.fetch_add(counters, 1, 2) == 5
    assert counters.tolist() == [0, 7]
    with pytest.raises(IndexError, match="slot 2 out of range for 2 counters"):
        _core.fetch_add(counters, 2, 1)
