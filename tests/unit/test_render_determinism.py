"""The same pixels however the work is split: tile sizes, tile order, thread counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import supervm
from supervm import _core
from supervm.rendering import prepare
from supervm.rendering.tiling import tiles

SCENES = Path(__file__).parents[2] / "examples" / "scenes"


@pytest.fixture(scope="module")
def spheres() -> object:
    return prepare(SCENES / "spheres.json")


def test_tile_sizes_and_threads_give_identical_images(spheres: object) -> None:
    first = supervm.render(spheres, width=37, height=23, spp=3, tile=32, threads=1)
    for tile, threads in [(1, 2), (7, 2), (16, 1), (64, 2)]:
        again = supervm.render(spheres, width=37, height=23, spp=3, tile=tile, threads=threads)
        assert np.array_equal(first, again), (tile, threads)
    assert first.dtype == np.float32 and first.shape == (23, 37, 3)


def test_tile_order_does_not_matter(spheres: object) -> None:
    work = tiles(37, 23, 8)
    reference = supervm.render(spheres, width=37, height=23, spp=2, tile=8, threads=1)
    image = np.zeros_like(reference)
    shuffled = np.ascontiguousarray(work[np.random.default_rng(1).permutation(len(work))])
    _core.render_tiles_into(spheres.core, spheres.camera(0), shuffled, image, 2,
                            spheres.scene.max_depth, spheres.scene.seed, 0, 2)
    assert np.array_equal(reference, image)


def test_frames_and_seeds_change_the_noise(spheres: object) -> None:
    a = supervm.render(spheres, width=16, height=12, spp=1, frame=0)
    b = supervm.render(spheres, width=16, height=12, spp=1, frame=30)  # same camera (held)
    assert not np.array_equal(a, b)
    assert np.array_equal(a, supervm.render(spheres, width=16, height=12, spp=1, frame=0))


def test_thin_lens_with_zero_aperture_matches_pinhole() -> None:
    base = {"camera": {"eye": [0.3, 1, 5], "look_at": [0, 0.5, 0], "vfov": 35},
            "environment": {"type": "gradient", "top": [0.5, 0.7, 1], "bottom": [1, 1, 1]},
            "materials": {"m": {"type": "lambertian", "albedo": [0.7, 0.4, 0.2]}},
            "objects": [{"type": "sphere", "center": [0, 0.5, 0], "radius": 1, "material": "m"},
                        {"type": "plane", "point": [0, -0.5, 0], "normal": [0, 1, 0],
                         "material": "m"}]}
    lens = {**base, "camera": {**base["camera"], "type": "thin_lens", "aperture": 0.0,
                               "focus_distance": 3.0}}
    blurred = {**base, "camera": {**base["camera"], "type": "thin_lens", "aperture": 0.5,
                                  "focus_distance": 3.0}}
    a = supervm.render(base, width=24, height=16, spp=2)
    b = supervm.render(lens, width=24, height=16, spp=2)
    c = supervm.render(blurred, width=24, height=16, spp=2)
    # Directions differ only by float rounding, so nearly every pixel agrees exactly enough.
    close = np.isclose(a, b, rtol=1e-4, atol=1e-5).all(axis=2)
    assert close.mean() > 0.97
    assert not np.isclose(a, c, rtol=1e-4, atol=1e-5).all(axis=2).mean() > 0.97
