"""Splitter selection for sample sort: sample every rank, gather, pick weighted quantiles.

Keys are ordered by (key, global position), a total order even when every key is equal, so
ties are split across ranks like distinct keys. NaNs order last, as in numpy.sort.
Pure numpy: the gathering lives with the sort.
"""

from __future__ import annotations

import math

import numpy as np

#: Samples drawn per rank in total across the world (times the rank count): the largest
#: bucket exceeds N/p by about N/(OVERSAMPLE) at worst for regular samples of sorted data.
OVERSAMPLE = 4096


def sample_counts(counts: np.ndarray, oversample: int | None = None) -> np.ndarray:
    """Return how many samples each rank draws: proportional to its count, all when small."""
    oversample = OVERSAMPLE if oversample is None else oversample
    total = int(counts.sum())
    if total == 0:
        return np.zeros_like(counts)
    budget = oversample * len(counts)
    if budget >= total:
        return counts.copy()  # sampling everything makes the splitters exact
    wanted = np.array([math.ceil(budget * int(c) / total) for c in counts], dtype=np.int64)
    return np.minimum(wanted, counts)


def sample_positions(n: int, count: int, rng: np.random.Generator | None) -> np.ndarray:
    """Return `count` increasing positions in [0, n): one per equal stratum.

    With `rng`, each position is uniform in its stratum (jittered: no aliasing with periodic
    data); without, it is the stratum's middle (regular sampling of sorted data).
    """
    if count >= n:
        return np.arange(n, dtype=np.int64)
    bounds = (np.arange(count + 1, dtype=np.int64) * n) // count
    widths = np.diff(bounds)
    if rng is None:
        return bounds[:-1] + widths // 2
    return bounds[:-1] + (rng.random(count) * widths).astype(np.int64)


def choose_splitters(
    keys: np.ndarray, gpos: np.ndarray, weights: np.ndarray, total: int, parts: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the `parts - 1` splitters (keys, positions) cutting `total` items evenly.

    Sample i stands for `weights[i]` items; splitter j is the first sample, in (key,
    position) order, whose cumulative weight reaches j * total / parts.
    """
    if parts <= 1 or keys.size == 0:
        return keys[:0], gpos[:0]
    order = np.lexsort((gpos, keys))  # lexsort orders NaN keys last, like numpy.sort
    cumulative = np.cumsum(weights[order])
    targets = np.arange(1, parts, dtype=np.float64) * (total / parts)
    # Float weights may sum a hair short of a target: clamp to the last sample.
    picks = np.minimum(np.searchsorted(cumulative, targets * (1 - 1e-12), side="left"),
                       len(order) - 1)
    chosen = order[picks]
    return keys[chosen], gpos[chosen]


def weights_for(counts: np.ndarray, per_rank: np.ndarray) -> np.ndarray:
    """Return each gathered sample's weight: how many items of its rank it stands for."""
    share = np.divide(counts, per_rank, out=np.zeros(len(counts)), where=per_rank > 0)
    return np.repeat(share, per_rank)
