"""Each rank's contiguous block of a job's input."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from supervm.jobs.generate import generate
from supervm.jobs.inputs import InlineInput, NpyInput, RandomInput
from supervm.jobs.validation import check_npy

InputModel = InlineInput | NpyInput | RandomInput


def block_bounds(n: int, ranks: int, rank: int) -> tuple[int, int]:
    """Return [start, stop) of `rank`'s block: the first n % ranks blocks get one more."""
    base, extra = divmod(n, ranks)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def input_size(source: InputModel) -> int:
    """Return the number of elements of the whole input."""
    if isinstance(source, InlineInput):
        return len(source.values)
    if isinstance(source, RandomInput):
        return source.random.n
    return check_npy(Path(source.npy))[1]


def input_dtype(source: InputModel) -> np.dtype:
    """Return the element type of the input."""
    if isinstance(source, InlineInput):
        return np.dtype(source.resolved_dtype())
    if isinstance(source, RandomInput):
        return np.dtype(source.random.dtype)
    return check_npy(Path(source.npy))[0]


def load_block(source: InputModel, ranks: int, rank: int, *, in_memory: bool) -> np.ndarray:
    """Return `rank`'s block of the input (1-D, in global order).

    An .npy block is a slice of a read-only memory map; `in_memory` copies it in (sorts
    rewrite their input anyway; reductions stream it straight from the page cache).
    """
    start, stop = block_bounds(input_size(source), ranks, rank)
    if isinstance(source, RandomInput):
        return generate(source.random, start, stop)
    if isinstance(source, InlineInput):
        return np.array(source.values[start:stop], dtype=source.resolved_dtype())
    mapped = np.load(source.npy, mmap_mode="r", allow_pickle=False).reshape(-1)[start:stop]
    block = np.array(mapped) if in_memory else mapped
    return block if block.dtype.isnative else block.astype(block.dtype.newbyteorder("="))
