"""Seeded data generators whose global sequence does not depend on the rank count.

The sequence is cut into fixed chunks of CHUNK elements; chunk c draws from its own
stream seeded by (seed, c), so a rank generates only the chunks covering its block.
"""

from __future__ import annotations

import numpy as np

from supervm.jobs.inputs import RandomSpec

#: Elements per chunk. Part of the definition of the data: changing it changes every set.
CHUNK = 1 << 20

_CHUNK_STREAM = 1  # SeedSequence([s]) equals ([s, 0]): keep the stream tags non-zero
_CONSTANT_STREAM = 2
_FEW = 4
ZIPF_EXPONENT_MINUS_ONE = 0.3


def _rng(spec: RandomSpec, *stream: int) -> np.random.Generator:
    return np.random.default_rng([spec.seed, *stream])


def _uniform(rng: np.random.Generator, dtype: np.dtype, size: int) -> np.ndarray:
    if dtype.kind == "f":
        return rng.random(size, dtype=dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True)


def _normal(rng: np.random.Generator, dtype: np.dtype, size: int) -> np.ndarray:
    if dtype.kind == "f":
        return rng.standard_normal(size, dtype=dtype)
    values = np.rint(rng.standard_normal(size) * 1e6)
    if dtype.kind == "u":
        values += 2.0**31
    return values.astype(dtype)


def _power_law(rng: np.random.Generator, dtype: np.dtype, size: int) -> np.ndarray:
    """Return Zipf-like integers >= 1, P(k) ~ k**-1.3, capped at 2**31 - 1.

    The floor of a Pareto draw (inverse CDF): the same tail as numpy's zipf(1.3), whose
    rejection sampler is about 50x slower.
    """
    u = 1.0 - rng.random(size)  # in (0, 1]
    values = np.floor(np.minimum(u ** (-1.0 / ZIPF_EXPONENT_MINUS_ONE), 2.0**31 - 1))
    return values.astype(dtype)


def _sorted(rng: np.random.Generator, dtype: np.dtype, index: np.ndarray, n: int) -> np.ndarray:
    """Return increasing values at global positions `index` of an n-element sorted set."""
    if dtype.kind == "f":
        return ((index + rng.random(index.size)) / n).astype(dtype)
    info = np.iinfo(dtype)
    span = min(int(info.max) - int(info.min) + 1, 1 << 62)
    step = span // n
    if step >= 1:  # value = index * step + jitter below step: strictly increasing
        offsets = index.astype(np.uint64) * np.uint64(step)
        offsets += rng.integers(0, step, index.size, dtype=np.uint64)
    else:  # more elements than values: a non-decreasing ramp
        offsets = np.floor(index * (span / n)).astype(np.uint64)
    # Add the type's minimum modulo 2**64: the two's complement bits of a signed result.
    values = offsets + np.array(info.min, dtype=dtype).astype(np.uint64)
    return (values.view(np.int64) if dtype.kind == "i" else values).astype(dtype)


def _constants(spec: RandomSpec, dtype: np.dtype, count: int) -> np.ndarray:
    """Return the `count` values few-distinct and all-equal draw from (same on every rank)."""
    return _uniform(_rng(spec, _CONSTANT_STREAM), dtype, count)


def _chunk(spec: RandomSpec, dtype: np.dtype, chunk: int) -> np.ndarray:
    """Return the values of one chunk of the global sequence."""
    start = chunk * CHUNK
    size = min(CHUNK, spec.n - start)
    rng = _rng(spec, _CHUNK_STREAM, chunk)
    if spec.dist == "uniform":
        return _uniform(rng, dtype, size)
    if spec.dist == "normal":
        return _normal(rng, dtype, size)
    if spec.dist == "zipf":
        return _power_law(rng, dtype, size)
    if spec.dist in ("sorted", "reversed"):
        index = np.arange(start, start + size, dtype=np.int64)
        if spec.dist == "reversed":
            index = spec.n - 1 - index
        return _sorted(rng, dtype, index, spec.n)
    if spec.dist == "few-distinct":
        return _constants(spec, dtype, _FEW)[rng.integers(0, _FEW, size)]
    if spec.dist == "all-equal":
        return np.full(size, _constants(spec, dtype, 1)[0], dtype=dtype)
    raise ValueError(f"unknown distribution {spec.dist!r}")


def generate(spec: RandomSpec, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Return elements [start, stop) of the generated global sequence."""
    stop = spec.n if stop is None else stop
    if not 0 <= start <= stop <= spec.n:
        raise ValueError(f"block [{start}, {stop}) is outside [0, {spec.n})")
    dtype = np.dtype(spec.dtype)
    out = np.empty(stop - start, dtype=dtype)
    for chunk in range(start // CHUNK, -(-stop // CHUNK)):
        values = _chunk(spec, dtype, chunk)
        lo = max(start, chunk * CHUNK)
        hi = min(stop, chunk * CHUNK + values.size)
        out[lo - start : hi - start] = values[lo - chunk * CHUNK : hi - chunk * CHUNK]
    return out
