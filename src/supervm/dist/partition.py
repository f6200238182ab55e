"""Cut local data into per-destination buckets at the world's splitters.

Items are ordered by (key, global position); an item goes to the bucket of the first
splitter not smaller than it. Pure numpy, no MPI: testable on its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def _after(x: np.ndarray, key: np.generic, strict: bool, out: np.ndarray) -> None:
    """Set out = x > key (strict) or x >= key, with NaN ordered after every number."""
    if x.dtype.kind != "f":
        (np.greater if strict else np.greater_equal)(x, key, out=out)
    elif np.isnan(key):
        # Only NaN can tie with a NaN splitter and nothing is greater than it.
        if strict:
            out[:] = False
        else:
            np.isnan(x, out=out)
    else:
        # not (x <= key) is true for NaN x, which must sort after every number.
        (np.less_equal if strict else np.less)(x, key, out=out)
        np.logical_not(out, out=out)


def after_splitter(x: np.ndarray, offset: int, key: np.generic, gpos: int) -> np.ndarray:
    """Return where (x[i], offset + i) > (key, gpos) for the unsorted block `x`."""
    # Items up to the splitter's position tie-break below it, items past it above it.
    cut = int(np.clip(gpos - offset, -1, x.size - 1)) + 1
    mask = np.empty(x.size, dtype=bool)
    _after(x[:cut], key, True, mask[:cut])
    _after(x[cut:], key, False, mask[cut:])
    return mask


def bucket_masks(
    x: np.ndarray, offset: int, split_keys: np.ndarray, split_gpos: np.ndarray
) -> Iterator[np.ndarray]:
    """Yield, bucket by bucket, where the items of `x` that belong to it are."""
    above_previous: np.ndarray | None = None
    for key, gpos in zip(split_keys, split_gpos, strict=True):
        above = after_splitter(x, offset, key, int(gpos))
        # Splitters increase, so "above this one" is inside "above the previous one".
        yield ~above if above_previous is None else above_previous & ~above
        above_previous = above
    yield np.ones(x.size, dtype=bool) if above_previous is None else above_previous


def bucket_indices(
    x: np.ndarray, offset: int, split_keys: np.ndarray, split_gpos: np.ndarray
) -> list[np.ndarray]:
    """Return, per bucket, the increasing local indices of the items that belong to it."""
    return [np.flatnonzero(m) for m in bucket_masks(x, offset, split_keys, split_gpos)]


def bucket_counts(
    x: np.ndarray, offset: int, split_keys: np.ndarray, split_gpos: np.ndarray
) -> np.ndarray:
    """Return how many items of `x` each bucket gets (one counting pass per splitter)."""
    at_or_below = [x.size - int(np.count_nonzero(after_splitter(x, offset, k, int(g))))
                   for k, g in zip(split_keys, split_gpos, strict=True)]
    return np.diff(np.array([0, *at_or_below, x.size], dtype=np.int64))


def arrange_by_counts(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return a copy of `x` holding bucket after bucket, each in no particular order.

    Bucket j is the items ranked [sum(counts[:j]), sum(counts[:j+1])) in sorted order.
    Selection (numpy.partition, SIMD introselect) moves far less memory than gathering
    bucket by bucket; ties are interchangeable, so the multiset of each bucket is exactly
    the one the splitters define. Positions are lost: for sort, not argsort.
    """
    out = x.copy()
    _select(out, np.cumsum(counts)[:-1].tolist())
    return out


def _select(a: np.ndarray, cuts: list[int]) -> None:
    """Rearrange `a` in place so that every item before each cut is <= every item after."""
    if not cuts:
        return
    middle = len(cuts) // 2
    cut = cuts[middle]
    if 0 < cut < a.size:
        a.partition(cut)  # one kth at a time: numpy's multi-kth path is several times slower
    _select(a[:cut], cuts[:middle])
    _select(a[cut:], [c - cut for c in cuts[middle + 1 :]])


def _fill(x: np.ndarray, mask: np.ndarray, items: np.ndarray, positions: np.ndarray | None,
          offset: int) -> None:
    """Copy the items of `x` where `mask` is set (and their global positions), in order."""
    if positions is None:
        np.compress(mask, x, out=items)  # no index array: it would double the memory touched
        return
    indices = np.flatnonzero(mask)
    np.take(x, indices, out=items)
    np.add(indices, offset, out=positions)


def pack(
    x: np.ndarray,
    masks: list[np.ndarray],
    counts: np.ndarray,
    keep: int,
    kept_items: np.ndarray,
    kept_positions: np.ndarray | None = None,
    offset: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the items (and positions) of every bucket but `keep`, bucket after bucket.

    Bucket `keep`, the share this rank keeps, goes straight to `kept_items` (its final
    place) instead of through the send buffer. Items keep their local order in a bucket;
    positions (offset + local index) are written only when `kept_positions` is given.
    """
    sending = x.size - int(counts[keep])
    items = np.empty(sending, dtype=x.dtype)
    positions = None if kept_positions is None else np.empty(sending, dtype=np.int64)
    start = 0
    for bucket, mask in enumerate(masks):
        if bucket == keep:
            _fill(x, mask, kept_items, kept_positions, offset)
            continue
        stop = start + int(counts[bucket])
        _fill(x, mask, items[start:stop], None if positions is None else positions[start:stop],
              offset)
        start = stop
    return items, positions


def sorted_cuts(
    s: np.ndarray,
    gpos: np.ndarray | int,
    split_keys: np.ndarray,
    split_gpos: np.ndarray,
) -> np.ndarray:
    """Return bucket boundaries (p + 1 of them) in the sorted block `s`.

    `gpos` is each item's global position (increasing among equal keys), or an int offset
    when the position is offset + index. Boundary j counts items <= splitter j - 1.
    """
    lo = np.searchsorted(s, split_keys, side="left")
    hi = np.searchsorted(s, split_keys, side="right")
    cuts = np.empty(len(split_keys) + 2, dtype=np.int64)
    cuts[0], cuts[-1] = 0, s.size
    for j, (first, stop, pos) in enumerate(zip(lo, hi, split_gpos, strict=True)):
        if isinstance(gpos, (int, np.integer)):
            below = int(pos) - int(gpos) + 1  # items offset+i <= pos within the tie run
        else:
            below = first + int(np.searchsorted(gpos[first:stop], pos, side="right"))
        cuts[j + 1] = min(max(below, int(first)), int(stop))
    return cuts
