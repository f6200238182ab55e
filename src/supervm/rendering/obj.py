"""A small Wavefront OBJ reader: vertices and faces, polygons fan-triangulated."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class ObjError(ValueError):
    """An OBJ file that cannot be read; the message names the file and line."""


def _vertex_index(token: str, count: int, where: str) -> int:
    """Return the 0-based vertex index of a face token (v, v/vt, v//vn, v/vt/vn)."""
    head = token.split("/", 1)[0]
    try:
        index = int(head)
    except ValueError:
        raise ObjError(f"{where}: bad vertex index {token!r}") from None
    # Negative indices count back from the latest vertex.
    resolved = index - 1 if index > 0 else count + index
    if index == 0 or not 0 <= resolved < count:
        raise ObjError(f"{where}: vertex index {index} out of range (1..{count})")
    return resolved


def read_obj(path: str | Path) -> np.ndarray:
    """Return the triangles of an OBJ file as a float32 array of shape (n, 3, 3)."""
    path = Path(path)
    vertices: list[tuple[float, float, float]] = []
    faces: list[tuple[int, int, int]] = []
    try:
        handle = path.open()
    except OSError as exc:
        raise ObjError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            where = f"{path}:{number}"
            if parts[0] == "v":
                try:
                    x, y, z = (float(p) for p in parts[1:4])
                except ValueError:
                    raise ObjError(f"{where}: a vertex needs three numbers: {line.strip()!r}") \
                        from None
                vertices.append((x, y, z))
            elif parts[0] == "f":
                if len(parts) < 4:
                    raise ObjError(f"{where}: a face needs at least three vertices")
                idx = [_vertex_index(t, len(vertices), where) for t in parts[1:]]
                faces.extend((idx[0], idx[i], idx[i + 1]) for i in range(1, len(idx) - 1))
            # vt, vn, o, g, s, usemtl, mtllib: not needed for flat-shaded geometry.
    if not faces:
        raise ObjError(f"{path}: no faces")
    v = np.asarray(vertices, dtype=np.float32)
    return v[np.asarray(faces, dtype=np.int64)]


def write_obj(path: str | Path, vertices: np.ndarray, faces: np.ndarray, header: str) -> None:
    """Write an OBJ of `vertices` (n x 3) and 0-based triangle `faces` (m x 3)."""
    with Path(path).open("w") as out:
        for line in header.splitlines():
            out.write(f"# {line}\n")
        out.write("".join(f"v {x:.5f} {y:.5f} {z:.5f}\n" for x, y, z in vertices.tolist()))
        out.write("".join(f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in faces.tolist()))
