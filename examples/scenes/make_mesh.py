"""Write examples/scenes/torus-knot.obj: a bumpy (2, 3) torus knot tube of 102,400 triangles.

Made for supervm and licensed like it (Apache-2.0). Deterministic: no randomness, so
running it again gives the same file.

    python examples/scenes/make_mesh.py [--segments 800] [--sides 64]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from supervm.rendering.obj import write_obj

HERE = Path(__file__).parent


def knot_curve(t: np.ndarray, p: int = 2, q: int = 3) -> np.ndarray:
    """Return points of the (p, q) torus knot at parameters t in [0, 2 pi)."""
    r = 2.0 + np.cos(q * t)
    return np.stack([r * np.cos(p * t), np.sin(q * t), r * np.sin(p * t)], axis=-1)


def torus_knot(segments: int, sides: int, radius: float = 0.45) -> tuple[np.ndarray, np.ndarray]:
    """Return (vertices, faces) of a tube of `sides` around `segments` points of the knot."""
    t = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    centre = knot_curve(t)
    tangent = knot_curve(t + 1e-4) - knot_curve(t - 1e-4)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    # A frame around the tangent from a fixed helper axis (the knot never runs along y long).
    normal = np.cross(tangent, [0.0, 1.0, 0.0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    binormal = np.cross(tangent, normal)
    a = np.linspace(0.0, 2.0 * np.pi, sides, endpoint=False)
    # Bumps along and around the tube give the BVH something other than a smooth pipe.
    bump = 1.0 + 0.18 * np.sin(24.0 * t)[:, None] * np.sin(5.0 * a)[None, :]
    ring = (np.cos(a)[None, :, None] * normal[:, None, :] +
            np.sin(a)[None, :, None] * binormal[:, None, :])
    vertices = centre[:, None, :] + radius * bump[:, :, None] * ring
    i = np.arange(segments)[:, None]
    j = np.arange(sides)[None, :]
    v00 = i * sides + j
    v10 = ((i + 1) % segments) * sides + j
    v01 = i * sides + (j + 1) % sides
    v11 = ((i + 1) % segments) * sides + (j + 1) % sides
    faces = np.concatenate([np.stack([v00, v10, v11], -1).reshape(-1, 3),
                            np.stack([v00, v11, v01], -1).reshape(-1, 3)])
    return vertices.reshape(-1, 3), faces


def main() -> None:
    """Write the mesh."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=800)
    parser.add_argument("--sides", type=int, default=64)
    parser.add_argument("--out", default=str(HERE / "torus-knot.obj"))
    args = parser.parse_args()
    vertices, faces = torus_knot(args.segments, args.sides)
    header = (f"(2, 3) torus knot, {len(faces)} triangles, written by make_mesh.py.\n"
              "Made for supervm; Apache-2.0 like the project.")
    write_obj(args.out, vertices, faces, header)
    print(f"{args.out}: {len(vertices)} vertices, {len(faces)} triangles")


if __name__ == "__main__":
    main()
