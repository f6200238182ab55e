"""Rank worker: render scenes distributed and compare with the one-process image on rank 0.

    mpiexec -n N python render_cases.py CASE
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

import supervm
from supervm import dist
from supervm.dist import RemoteRankError, rendering

SCENES = Path(__file__).parents[3] / "examples" / "scenes"


def same_image() -> None:
    comm = MPI.COMM_WORLD
    for name, tile in (("spheres", 8), ("cornell", 13), ("mesh", 32)):
        image = dist.render(SCENES / f"{name}.json", width=41, height=29, spp=2, tile=tile,
                            frame=3)
        if comm.Get_rank() == 0:
            local = supervm.render(SCENES / f"{name}.json", width=41, height=29, spp=2, frame=3)
            assert image is not None and np.array_equal(image, local), name
        else:
            assert image is None
    # Two threads per rank take two tiles at a time, frames mixed: the same pixels still.
    result = dist.render_frames(SCENES / "spheres.json", [1, 12, 24], width=20, height=10,
                                spp=1, tile=4, threads=2)
    if comm.Get_rank() == 0:
        for frame in (1, 12, 24):
            local = supervm.render(SCENES / "spheres.json", width=20, height=10, spp=1,
                                   frame=frame)
            assert np.array_equal(result.images[frame], local), frame
        assert sum(result.tiles_per_rank) == 3 * 15
    print(f"rank {comm.Get_rank()}: ok", flush=True)


def counter_hands_out_each_item_once() -> None:
    comm = MPI.COMM_WORLD
    for shared in (True, False):  # shared memory (one node) and rank 0's window (any nodes)
        counter = rendering._Counter(comm, shared=shared)
        taken: list[int] = []
        while (first := counter.add(0, 3)) < 3000:
            taken += range(first, min(first + 3, 3000))
        counter.free()
        everyone = comm.gather(taken, root=0)
        if comm.Get_rank() == 0:
            assert everyone is not None
            assert sorted(i for part in everyone for i in part) == list(range(3000)), shared
    # Rank 0's window with tiles gathered (ranks across nodes), and shared memory with each
    # rank's own images (frames over the shared canvas's size): the same pixels.
    local = supervm.render(SCENES / "cornell.json", width=24, height=16, spp=1)
    shared_counter = rendering._Counter
    rendering._Counter = functools.partial(shared_counter, shared=False)  # type: ignore
    across_nodes = dist.render(SCENES / "cornell.json", width=24, height=16, spp=1, tile=5)
    rendering._Counter = shared_counter  # type: ignore
    rendering._SHARED_CANVAS_MAX_BYTES = 0
    own_images = dist.render_frames(SCENES / "cornell.json", [0], width=24, height=16, spp=1,
                                    tile=5)
    if comm.Get_rank() == 0:
        assert across_nodes is not None and np.array_equal(across_nodes, local)
        assert np.array_equal(own_images.images[0], local)
        assert sum(own_images.tiles_per_rank) == 5 * 4
    print(f"rank {comm.Get_rank()}: ok", flush=True)


def one_rank_fails() -> None:
    comm = MPI.COMM_WORLD
    # Only the last rank sees a missing scene file: every rank must raise, none may hang.
    scene = "/nonexistent/scene.json" if comm.Get_rank() == comm.Get_size() - 1 \
        else SCENES / "spheres.json"
    try:
        dist.render(scene, width=8, height=8, spp=1)
    except RemoteRankError as exc:
        print(f"rank {comm.Get_rank()}: remote {exc}", flush=True)
    except ValueError as exc:
        print(f"rank {comm.Get_rank()}: local {exc}", flush=True)
    else:
        raise AssertionError("no rank may succeed")


if __name__ == "__main__":
    {"same": same_image, "counter": counter_hands_out_each_item_once,
     "fail": one_rank_fails}[sys.argv[1]]()
