"""save_image: sRGB PNG or float .npy, and never a partial file under the final name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import supervm
from supervm.rendering import image as image_module
from supervm.rendering.image import to_srgb8


def test_png_is_srgb_encoded_and_clamped(tmp_path: Path) -> None:
    linear = np.array([[[0.0, 0.5, 1.0], [2.0, -1.0, 0.0031308]]], dtype=np.float32)
    supervm.save_image(linear, tmp_path / "a.png")
    pixels = np.asarray(Image.open(tmp_path / "a.png"))
    # sRGB(0.5) = 0.7354 -> 188; values above 1 clamp to 255 and below 0 to 0.
    assert pixels.tolist() == [[[0, 188, 255], [255, 0, 10]]]
    assert to_srgb8(np.full((1, 1, 3), np.nan)).tolist() == [[[0, 0, 0]]]


def test_npy_keeps_the_linear_floats(tmp_path: Path) -> None:
    linear = np.random.default_rng(0).uniform(0, 4, size=(5, 7, 3)).astype(np.float32)
    supervm.save_image(linear, tmp_path / "a.npy")
    assert np.array_equal(np.load(tmp_path / "a.npy"), linear)


def test_bad_shapes_and_suffixes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        supervm.save_image(np.zeros((4, 4)), tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"\.png or \.npy"):
        supervm.save_image(np.zeros((4, 4, 3)), tmp_path / "a.jpg")


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "frame.png"
    supervm.save_image(np.zeros((2, 2, 3)), target)
    before = target.read_bytes()

    def broken_encoder(array: np.ndarray) -> np.ndarray:
        raise OSError("disk full")

    monkeypatch.setattr(image_module, "to_srgb8", broken_encoder)
    with pytest.raises(OSError, match="disk full"):
        supervm.save_image(np.ones((2, 2, 3)), target)
    assert target.read_bytes() == before  # the old image is intact
    with pytest.raises(OSError, match="disk full"):
        supervm.save_image(np.ones((2, 2, 3)), tmp_path / "new.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frame.png"]  # no temp, no new.png
