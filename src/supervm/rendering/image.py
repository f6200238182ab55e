"""Write rendered images: sRGB PNG (8-bit, clamped) or the raw linear float .npy."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def to_srgb8(image: np.ndarray) -> np.ndarray:
    """Return linear RGB as 8-bit sRGB: clamp to [0, 1], apply the sRGB transfer curve."""
    linear = np.clip(np.nan_to_num(image.astype(np.float64), nan=0.0), 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear,
                    1.055 * np.power(linear, 1.0 / 2.4) - 0.055)
    return np.round(srgb * 255.0).astype(np.uint8)


def save_image(image: np.ndarray, path: str | Path) -> Path:
    """Write an H x W x 3 linear image to `path` (.png or .npy), atomically; return the path.

    The file is written under a temporary name in the same directory and renamed, so the
    final name never holds a partial image.
    """
    path = Path(path)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3, got shape {image.shape}")
    suffix = path.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise ValueError(f"image path must end in .png or .npy, got {path.name!r}")
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temp, "wb") as out:
            if suffix == ".npy":
                np.save(out, image.astype(np.float32), allow_pickle=False)
            else:
                from PIL import Image

                Image.fromarray(to_srgb8(image)).save(out, format="PNG")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path
