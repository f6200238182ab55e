"""Hypothesis strategies: arrays of every supported dtype, random and adversarial."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = [np.dtype(t) for t in ("int32", "int64", "uint32", "uint64", "float32", "float64")]
PATTERNS = (
    "uniform", "small-range", "sorted", "reversed", "all-equal", "few-distinct",
    "zipf", "specials",
)


def special_values(dtype: np.dtype) -> np.ndarray:
    """Return the values most likely to break a kernel for `dtype`."""
    if dtype.kind == "f":
        info = np.finfo(dtype)
        vals = [np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, info.max, info.min,
                info.tiny, -info.tiny, info.smallest_subnormal, 1.0, -1.0]
    else:
        info = np.iinfo(dtype)
        vals = [info.min, info.max, 0, 1, info.max - 1, info.min + 1]
        if dtype.kind == "i":
            vals += [-1]
    return np.array(vals, dtype=dtype)


def make_array(dtype: np.dtype, n: int, pattern: str, seed: int) -> np.ndarray:
    """Build an array of `n` elements of `dtype` following `pattern`, reproducibly."""
    rng = np.random.default_rng(seed)
    if dtype.kind == "f":
        base = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4)
        a = base.astype(dtype)
    else:
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    if pattern == "small-range":
        a = rng.integers(0, 100, n).astype(dtype)
    elif pattern == "sorted":
        a = np.sort(a)
    elif pattern == "reversed":
        a = np.sort(a)[::-1].copy()
    elif pattern == "all-equal":
        a = np.full(n, a[0] if n else 0, dtype=dtype)
    elif pattern == "few-distinct":
        choices = a[:4] if n >= 4 else special_values(dtype)[:4]
        a = rng.choice(choices, n).astype(dtype)
    elif pattern == "zipf":
        a = (rng.zipf(1.3, n) % 1_000_000).astype(dtype)
    elif pattern == "specials":
        specials = special_values(dtype)
        where = rng.random(n) < 0.2
        a[where] = rng.choice(specials, int(where.sum()))
    return a


@st.composite
def recipes(draw: st.DrawFn, max_size: int = 100_000) -> np.ndarray:
    """Draw a (dtype, size, pattern, seed) recipe and build its array."""
    dtype = draw(st.sampled_from(DTYPES))
    n = draw(st.one_of(st.integers(0, 40), st.integers(0, max_size)))
    pattern = draw(st.sampled_from(PATTERNS))
    seed = draw(st.integers(0, 2**32 - 1))
    return make_array(dtype, n, pattern, seed)


@st.composite
def small_arrays(draw: st.DrawFn, max_size: int = 300) -> np.ndarray:
    """Draw a small array element by element, specials included."""
    dtype = draw(st.sampled_from(DTYPES))
    specials = special_values(dtype)
    elements = st.one_of(
        hnp.from_dtype(dtype, allow_nan=True, allow_infinity=True)
        if dtype.kind == "f" else hnp.from_dtype(dtype),
        st.sampled_from(list(specials)),
    )
    return draw(hnp.arrays(dtype, st.integers(0, max_size), elements=elements))
