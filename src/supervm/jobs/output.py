"""A run's directory and the files in it, each written atomically (temp name, then rename)."""

from __future__ import annotations

import json
import math
import os
import secrets
import time
from pathlib import Path
from typing import Any

import numpy as np


def new_run_dir(base: str | Path = "runs") -> Path:
    """Create and return a fresh run directory `base/<time>-<random id>`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(base) / f"{stamp}-{secrets.token_hex(3)}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically."""
    temp = _temp_name(path)
    temp.write_text(text)
    os.replace(temp, path)


def write_npy(path: Path, array: np.ndarray) -> None:
    """Save `array` as an .npy file at `path` atomically."""
    temp = _temp_name(path)
    with open(temp, "wb") as f:
        np.save(f, array, allow_pickle=False)
    os.replace(temp, path)


def create_npy(path: Path, dtype: np.dtype, n: int) -> Path:
    """Create (under a temporary name) an .npy of `n` elements that ranks fill in place."""
    temp = path.with_name(f".{path.name}.tmp")
    mapped = np.lib.format.open_memmap(temp, mode="w+", dtype=dtype, shape=(n,))
    del mapped  # the header and the file's size are what the ranks need
    return temp


def fill_npy(temp: Path, start: int, block: np.ndarray) -> None:
    """Write `block` at element `start` of a file made by create_npy."""
    if block.size == 0:
        return
    mapped = np.load(temp, mmap_mode="r+")
    mapped[start : start + block.size] = block
    mapped.flush()
    del mapped


def jsonable(value: Any) -> Any:
    """Return `value` as JSON values: numpy to Python, non-finite floats as strings."""
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented JSON at `path` atomically."""
    write_text(path, json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n")
