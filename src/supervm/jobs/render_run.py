"""Run a render job on every rank: frames in batches over dynamic tiles, images on rank 0."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpi4py import MPI

import supervm
from supervm.dist._mpi import agree
from supervm.dist.rendering import render_frames
from supervm.jobs.render_model import RenderJob
from supervm.rendering.api import RenderSettings, prepare
from supervm.rendering.image import save_image
from supervm.rendering.tiling import tiles


def frame_name(frame: int, fmt: str) -> str:
    """Return the file name of `frame`'s image in a run directory."""
    return f"frame-{frame:04d}.{fmt}"


class TileProgress:
    """A tqdm bar on stderr counting tiles over every batch of frames (rank 0 only)."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="tile", file=sys.stderr, desc="render")
        self.base = 0  # tiles of the batches already done

    def __call__(self, done: int, _batch_total: int) -> None:
        self.bar.n = min(self.bar.total, self.base + done)
        self.bar.refresh()

    def close(self) -> None:
        """Finish the bar's line."""
        self.bar.close()


def run_render(spec: RenderJob, comm: MPI.Comm, out_dir: Path, progress: bool,
               started_at: float, path_of: Callable[[int], Path] | None = None
               ) -> dict[str, Any]:
    """Render every frame of `spec` over `comm`; write the images; return the report.

    Frame f goes to `path_of(f)`, by default out_dir / frame-NNNN.<format>.
    """
    path_of = path_of or (lambda f: out_dir / frame_name(f, spec.format))
    started = time.perf_counter()
    rank, size = comm.Get_rank(), comm.Get_size()
    kept: list[Any] = []
    agree(comm, lambda: kept.append(prepare(spec.scene)))
    compiled = kept[0]
    settings = RenderSettings.of(compiled.scene, spec.width, spec.height, spec.spp, spec.tile)
    frames = spec.frames.numbers()
    per_frame = len(tiles(settings.width, settings.height, settings.tile))
    bar = TileProgress(len(frames) * per_frame) if progress and rank == 0 else None
    # A few frames at a time: enough items to balance the ranks, few images held at once.
    batch = max(2, size)
    written: list[dict[str, Any]] = []
    rays = 0
    tiles_per_rank = [0] * size
    try:
        for first in range(0, len(frames), batch):
            chunk = frames[first:first + batch]
            if bar is not None:
                bar.base = first * per_frame
            result = render_frames(compiled, chunk, width=settings.width, height=settings.height,
                                   spp=settings.spp, tile=settings.tile, threads=spec.threads,
                                   comm=comm, progress=bar)
            rays += result.rays

            def write(images: dict = result.images) -> list[dict[str, Any]]:
                return [{"frame": f, "file": save_image(images[f], path_of(f)).name}
                        for f in sorted(images)]

            names = agree(comm, write if rank == 0 else lambda: [])[0]
            written += names
            for r, count in enumerate(result.tiles_per_rank):
                tiles_per_rank[r] += count
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - started
    return {
        "job": spec.model_dump(mode="json"),
        "kind": "render",
        "ranks": size,
        "run_dir": str(out_dir),
        "output": {"frames": written},
        "images": [w["file"] for w in written],
        "width": settings.width, "height": settings.height, "spp": settings.spp,
        "tile": settings.tile, "frames": len(frames),
        "triangles": compiled.triangle_count, "spheres": compiled.sphere_count,
        "rays": rays,
        "mrays_per_second": rays / wall / 1e6 if wall > 0 else 0.0,
        "tiles_per_rank": tiles_per_rank,
        "wall_seconds": wall,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started_at)),
        "supervm_version": supervm.__version__,
        "mpi_library": MPI.Get_library_version().splitlines()[0].strip(),
    }
