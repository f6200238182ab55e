"""Cut an image (or an animation) into tiles: the unit of work for threads and ranks."""

from __future__ import annotations

import numpy as np


def tiles(width: int, height: int, tile: int) -> np.ndarray:
    """Return the tiles of a width x height image as int32 rows (x0, y0, w, h), row-major."""
    rows = []
    for y0 in range(0, height, tile):
        for x0 in range(0, width, tile):
            rows.append((x0, y0, min(tile, width - x0), min(tile, height - y0)))
    return np.asarray(rows, dtype=np.int32).reshape(-1, 4)
