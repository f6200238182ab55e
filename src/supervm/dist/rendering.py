"""Distributed rendering: ranks take (frame, tile) work items from one shared atomic counter.

The counter lives in a shared-memory window when every rank is on one node (hardware
atomics), else in an MPI window on rank 0 (Fetch_and_op); either way no rank waits for a
dispatcher and rank 0 renders like every other rank. On one node ranks render into one
shared-memory image that rank 0 reads in place; across nodes tiles go to rank 0 at the end.
Every pixel depends only on the scene and its coordinates, so the image is bit-identical to
the one-process render whatever the number of ranks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from mpi4py import MPI

from supervm import _core
from supervm._checks import resolve_threads
from supervm.dist._mpi import agree, resolve_comm
from supervm.rendering.api import RenderSettings, SceneLike, prepare
from supervm.rendering.compile import CompiledScene
from supervm.rendering.tiling import tiles

_NEXT = 0  # the counter's slot in the window
_GUIDED_SHARE = 4  # a take is at most 1/(4 * ranks) of what is left
# Shorter polls cost rank 0 more CPU, longer ones make takes wait (0.2-2 ms measured alike).
_PROGRESS_INTERVAL_S = 0.001
# Frames rendered straight into one shared-memory canvas (ranks on one node) up to this size;
# beyond it each rank keeps its own images and its tiles travel to rank 0.
_SHARED_CANVAS_MAX_BYTES = 1 << 30


@dataclass
class FramesResult:
    """What a distributed render produced: images on rank 0, and work counts on every rank."""

    images: dict[int, np.ndarray] = field(default_factory=dict)
    rays: int = 0
    tiles_per_rank: list[int] = field(default_factory=list)


class _Counter:
    """An int64 counter every rank updates atomically: shared memory or rank 0's window.

    When every rank is on one node the counter is a page of an MPI shared-memory window
    and ranks add with a hardware atomic: no rank ever waits for another. Across nodes
    it lives in an MPI window on rank 0 (Fetch_and_op). MPICH applies a remote rank's
    atomic there only when rank 0 enters the MPI library, and rank 0 spends its time in
    the C++ tracer, so a helper thread on rank 0 pokes the progress engine every
    millisecond (measured: without it, rank 1 of 2 rendered 25 of 130 tiles; through the
    window a take cost ~0.5-1.5 ms of waiting, through shared memory microseconds).
    """

    def __init__(self, comm: MPI.Comm, shared: bool | None = None) -> None:
        """Make the counter (collective); `shared` None: shared memory when on one node."""
        self.rank = comm.Get_rank()
        node = comm.Split_type(MPI.COMM_TYPE_SHARED)
        one_node = node.Get_size() == comm.Get_size()
        node.Free()
        if shared and not one_node:
            raise ValueError("a shared-memory counter needs every rank on one node")
        self.shared = one_node if shared is None else shared
        size = 8 if self.rank == 0 else 0
        self.win = (MPI.Win.Allocate_shared(size, 8, comm=comm) if self.shared
                    else MPI.Win.Allocate(size, 8, comm=comm))
        if self.shared:
            memory, _ = self.win.Shared_query(0)
            self.slots = np.frombuffer(memory, dtype=np.int64)
        if self.rank == 0:
            np.frombuffer(self.win.tomemory(), dtype=np.int64)[:] = 0
        comm.Barrier()  # zeroed before anyone adds
        self.win.Lock_all()
        self._stop = threading.Event()
        # Calling MPI from a second thread needs MPI_THREAD_MULTIPLE (mpi4py's default);
        # without it rank 0 still answers, only later (when it takes its next tile).
        helped = (not self.shared and comm.Get_size() > 1
                  and MPI.Query_thread() == MPI.THREAD_MULTIPLE)
        self._poke = comm.Dup() if helped else None  # collective: every rank alike
        self._thread: threading.Thread | None = None
        if self._poke is not None and self.rank == 0:
            self._thread = threading.Thread(target=self._progress, daemon=True)
            self._thread.start()

    def _progress(self) -> None:
        assert self._poke is not None
        while not self._stop.wait(_PROGRESS_INTERVAL_S):
            self._poke.Iprobe()  # any MPI call drives the progress engine

    def add(self, slot: int, amount: int) -> int:
        """Add `amount` to counter `slot`; return its value before."""
        if self.shared:
            return int(_core.fetch_add(self.slots, slot, amount))
        value = np.zeros(1, dtype=np.int64)
        self.win.Fetch_and_op(np.array([amount], dtype=np.int64), value, 0, slot, MPI.SUM)
        self.win.Flush(0)
        return int(value[0])

    def free(self) -> None:
        """Stop the helper and release the window (collective)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._poke is not None:
            self._poke.Free()
        if self.shared:
            del self.slots  # the window's memory goes with it
        self.win.Unlock_all()
        self.win.Free()


class _Canvas:
    """Where ranks render their tiles: one shared-memory image per frame when every rank is
    on one node (rank 0 then reads the frames in place: nothing is gathered), else each
    rank's own images, whose tiles travel to rank 0 at the end."""

    def __init__(self, comm: MPI.Comm, frames: int, height: int, width: int,
                 shared: bool) -> None:
        """Make the canvas (collective); `shared` must be the same on every rank."""
        self.shape = (frames, height, width, 3)
        nbytes = frames * height * width * 3 * 4
        self.shared = shared and nbytes <= _SHARED_CANVAS_MAX_BYTES
        self.win: MPI.Win | None = None
        if self.shared:
            self.win = MPI.Win.Allocate_shared(nbytes if comm.Get_rank() == 0 else 0, 4,
                                               comm=comm)
            memory, _ = self.win.Shared_query(0)
            self.frames = np.frombuffer(memory, dtype=np.float32).reshape(self.shape)
            self.win.Fence()  # opens the epoch in which every rank stores its tiles
        self._own: dict[int, np.ndarray] = {}

    def frame(self, index: int) -> np.ndarray:
        """Return the H x W x 3 image that frame `index` (its position) is rendered into."""
        if self.shared:
            return self.frames[index]
        if index not in self._own:
            self._own[index] = np.empty(self.shape[1:], np.float32)
        return self._own[index]

    def finish(self) -> None:
        """Make every rank's stores visible to rank 0 (collective; shared canvas only)."""
        if self.win is not None:
            self.win.Fence()

    def free(self) -> None:
        """Release the shared window (collective)."""
        if self.win is not None:
            del self.frames  # the window's memory goes with it
            self.win.Free()
            self.win = None


def _render_items(compiled: CompiledScene, settings: RenderSettings, frames: Sequence[int],
                  work: np.ndarray, counter: _Counter, canvas: _Canvas, threads: int,
                  ranks: int, report: Callable[[int], None] | None) -> tuple[list[int], int]:
    """Take items until none are left, render them into `canvas`; return them and the rays."""
    total = len(frames) * len(work)
    scene = compiled.scene
    # A rank with several threads takes at least one tile per thread and renders them
    # together into the frame's image.
    least = threads if threads > 0 else _core.cpu_count()
    taken: list[int] = []
    rays = 0
    step = least
    while True:
        first = counter.add(_NEXT, step)
        if first >= total:
            return taken, rays
        items = range(first, min(first + step, total))
        for frame_index in sorted({item // len(work) for item in items}):
            frame = frames[frame_index]
            mine = [item for item in items if item // len(work) == frame_index]
            rays += _core.render_tiles_into(
                compiled.core, compiled.camera(frame),
                np.ascontiguousarray(work[[item % len(work) for item in mine]]),
                canvas.frame(frame_index), settings.spp, scene.max_depth, scene.seed, frame,
                least)
            taken += mine
        if report is not None:
            report(items.stop)  # items handed out so far: a close, cheap measure of progress
        # Guided scheduling: large takes while much is left, single tiles at the end, so
        # few round trips to rank 0 and still an even finish.
        step = max(least, (total - items.stop) // (_GUIDED_SHARE * ranks))


def _tile_of(work: np.ndarray, item: int, image: np.ndarray) -> np.ndarray:
    """Return the view of `image` that work item `item`'s tile covers."""
    x0, y0, w, h = (int(v) for v in work[item % len(work)])
    return image[y0:y0 + h, x0:x0 + w]


def render_frames(scene: SceneLike, frames: Sequence[int], *, width: int | None = None,
                  height: int | None = None, spp: int | None = None, tile: int = 32,
                  threads: int | None = 1, comm: MPI.Comm | None = None,
                  progress: Callable[[int, int], None] | None = None) -> FramesResult:
    """Render `frames` of `scene` over every rank of `comm`; images arrive on rank 0.

    `progress(done, total)` is called on rank 0 as tiles finish (on any rank). A failure on
    any rank raises on every rank (RemoteRankError on the others), never leaving one waiting.
    """
    comm = resolve_comm(comm)
    rank = comm.Get_rank()
    frames = [int(f) for f in frames]

    def setup() -> tuple[CompiledScene, RenderSettings, int]:
        compiled = prepare(scene)
        settings = RenderSettings.of(compiled.scene, width, height, spp, tile)
        if not frames or min(frames) < 0:
            raise ValueError(f"frames: expected frame numbers >= 0, got {frames!r}")
        for f in frames:
            compiled.camera(f)  # a degenerate camera fails here, on every rank alike
        return compiled, settings, resolve_threads(threads)

    kept: list[Any] = []
    agree(comm, lambda: kept.append(setup()))
    compiled, settings, nthreads = kept[0]
    work = tiles(settings.width, settings.height, settings.tile)
    total = len(frames) * len(work)
    counter = _Counter(comm)
    canvas = _Canvas(comm, len(frames), settings.height, settings.width, counter.shared)
    report = (lambda done: progress(done, total)) if progress is not None and rank == 0 else None
    result = FramesResult()
    try:
        pieces: list[Any] = []
        agree(comm, lambda: pieces.append(
            _render_items(compiled, settings, frames, work, counter, canvas, nthreads,
                          comm.Get_size(), report)))
        taken, my_rays = pieces[0]
        canvas.finish()
        if canvas.shared:
            counts = comm.gather(len(taken), root=0)
            if rank == 0:
                result.images = {f: canvas.frames[i].copy() for i, f in enumerate(frames)}
        else:
            gathered = comm.gather([(item, _tile_of(work, item, canvas.frame(
                item // len(work))).copy()) for item in taken], root=0)
            counts = [len(g) for g in gathered] if gathered is not None else None
            if gathered is not None:
                result.images = {f: np.zeros(canvas.shape[1:], np.float32) for f in frames}
                for part in gathered:
                    for item, pixels in part:
                        _tile_of(work, item, result.images[frames[item // len(work)]])[:] = \
                            pixels
    finally:
        canvas.free()
        counter.free()
    result.rays = int(sum(comm.allgather(my_rays)))
    if rank == 0:
        assert counts is not None
        result.tiles_per_rank = list(counts)
        if progress is not None:
            progress(total, total)
    return result


def render(scene: SceneLike, *, width: int | None = None, height: int | None = None,
           spp: int | None = None, frame: int = 0, tile: int = 32, threads: int | None = 1,
           comm: MPI.Comm | None = None) -> np.ndarray | None:
    """Render one frame over every rank of `comm`; return the image on rank 0, None elsewhere."""
    result = render_frames(scene, [frame], width=width, height=height, spp=spp, tile=tile,
                           threads=threads, comm=comm)
    return result.images.get(frame)
