"""Physically based checks: analytic radiance in a uniform environment, energy conservation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import supervm

L = 0.8  # environment radiance


def furnace(materials: dict[str, Any], objects: list[dict[str, Any]],
            max_depth: int = 64) -> dict[str, Any]:
    """Return a scene of `objects` lit only by a uniform environment of radiance L."""
    return {"max_depth": max_depth,
            "camera": {"eye": [0, 0, 4], "look_at": [0, 0, 0], "vfov": 40},
            "environment": {"type": "constant", "color": [L, L, L]},
            "materials": materials, "objects": objects}


def sphere(material: str, center: tuple[float, ...] = (0, 0, 0), radius: float = 1.0) -> dict:
    return {"type": "sphere", "center": list(center), "radius": radius, "material": material}


@pytest.mark.parametrize("albedo", [0.0, 0.3, 0.75, 1.0])
def test_convex_lambertian_sphere_shows_albedo_times_environment(albedo: float) -> None:
    # Every path hits the convex sphere at most once and then escapes: radiance is exactly
    # albedo * L for each sample, however it is scattered.
    scene = furnace({"m": {"type": "lambertian", "albedo": [albedo, 0.5, 1.0]}}, [sphere("m")])
    n = 40
    image = supervm.render(scene, width=n, height=n, spp=4, threads=1)
    # Pixels within 0.45 of the half-size around the centre lie well inside the sphere's disk.
    inner = image[int(n * 0.275):int(n * 0.725), int(n * 0.275):int(n * 0.725)]
    np.testing.assert_allclose(inner[..., 0], albedo * L, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(inner[..., 1], 0.5 * L, rtol=1e-5)
    np.testing.assert_allclose(inner[..., 2], L, rtol=1e-5)
    np.testing.assert_allclose(image[0, 0], [L, L, L], rtol=1e-6)  # the corner sees the sky


def _mean_and_error(image: np.ndarray) -> tuple[float, float]:
    """Return the image mean and its standard error (pixels are independent estimates)."""
    values = image.reshape(-1)
    return float(values.mean()), float(values.std() / np.sqrt(values.size))


LOSSLESS = {
    "white": {"type": "lambertian", "albedo": [1, 1, 1]},
    "mirror": {"type": "metal", "albedo": [1, 1, 1], "fuzz": 0.0},
    "glass": {"type": "dielectric", "ior": 1.5},
}


@pytest.mark.parametrize("name", sorted(LOSSLESS))
def test_lossless_materials_return_what_they_receive(name: str) -> None:
    # White furnace: with albedo 1 and light from every direction, any number of bounces
    # (two spheres light each other) must still give L on average: nothing created, nothing lost.
    objects = [sphere(name, (-0.6, 0, 0), 0.7), sphere(name, (0.7, 0.2, -0.3), 0.6)]
    image = supervm.render(furnace({name: LOSSLESS[name]}, objects), width=32, height=32,
                           spp=16, threads=1)
    mean, error = _mean_and_error(image)
    assert abs(mean - L) <= 5 * error + 1e-3, (mean, error)


@pytest.mark.parametrize("material", [
    {"type": "lambertian", "albedo": [0.6, 0.6, 0.6]},
    {"type": "metal", "albedo": [0.6, 0.6, 0.6], "fuzz": 0.5},
    {"type": "metal", "albedo": [1, 1, 1], "fuzz": 1.0},
])
def test_lossy_materials_never_return_more_than_they_receive(material: dict) -> None:
    objects = [sphere("m", (-0.6, 0, 0), 0.7), sphere("m", (0.7, 0.2, -0.3), 0.6)]
    image = supervm.render(furnace({"m": material}, objects), width=32, height=32, spp=16,
                           threads=1)
    mean, error = _mean_and_error(image)
    assert mean <= L + 5 * error, (mean, error)
    # and, since the spheres cover part of the view with albedo < 1 (or absorbing fuzz), less
    assert mean < L


def test_an_emitter_shows_its_emission_and_lights_its_neighbour() -> None:
    scene = {"camera": {"eye": [0, 0, 4], "look_at": [0, 0, 0], "vfov": 30},
             "materials": {"lamp": {"type": "emissive", "emission": [2, 1, 0.5]},
                           "wall": {"type": "lambertian", "albedo": [0.5, 0.5, 0.5]}},
             "objects": [sphere("lamp"), {"type": "plane", "point": [0, 0, -2],
                                          "normal": [0, 0, 1], "material": "wall"}]}
    image = supervm.render(scene, width=24, height=24, spp=4, threads=1)
    np.testing.assert_allclose(image[12, 12], [2, 1, 0.5], rtol=1e-6)
    assert 0 < image[0, 0, 0] < 2  # the wall behind is lit only by the lamp, and dimmer


def test_gradient_environment_blends_bottom_to_top_by_direction() -> None:
    # Camera rays straight ahead see the horizon: halfway between bottom and top.
    scene = {"camera": {"eye": [0, 0, 0], "look_at": [0, 0, -1], "vfov": 1},
             "environment": {"type": "gradient", "top": [0, 0.5, 1], "bottom": [1, 1, 1]},
             "materials": {"m": {"type": "lambertian", "albedo": [1, 1, 1]}},
             "objects": [sphere("m", (0, 0, 50), 1)]}  # behind the camera
    image = supervm.render(scene, width=3, height=3, spp=4)
    np.testing.assert_allclose(image[1, 1], [0.5, 0.75, 1.0], atol=5e-3)
    up = {**scene, "camera": {"eye": [0, 0, 0], "look_at": [0, 1, 0], "up": [0, 0, -1],
                              "vfov": 1}}
    np.testing.assert_allclose(supervm.render(up, width=3, height=3, spp=4)[1, 1],
                               [0, 0.5, 1], atol=1e-4)
