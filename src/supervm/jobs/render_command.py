"""`supervm render scene.json -o out.png`: validate, then render here or over mpiexec ranks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from supervm.jobs.launch import (
    TIMED_OUT,
    find_mpiexec,
    mpi_environment,
    run_ranks,
    under_mpi_launcher,
)
from supervm.jobs.render_model import FrameRange, RenderJob
from supervm.jobs.validation import JobError, check_scene, parse_job
from supervm.rendering.scene import SceneError

_USAGE = 2  # exit status of a bad scene or bad arguments


def parse_frames(text: str) -> FrameRange:
    """Return the frames of "A:B" (both included) or "A"; raise JobError if malformed."""
    parts = text.split(":")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (1, 2) or min(numbers, default=-1) < 0:
        raise JobError([f"--frames: expected A:B or A with frame numbers >= 0, got {text!r}"])
    start, end = numbers[0], numbers[-1]
    if end < start:
        raise JobError([f"--frames: end {end} is before start {start}"])
    return FrameRange(start=start, end=end)


def output_path(out: Path, frame: int, several: bool) -> Path:
    """Return where `frame` is written: `out` itself, or out-NNNN.ext for several frames."""
    return out.with_name(f"{out.stem}-{frame:04d}{out.suffix}") if several else out


def _spec(args: object) -> RenderJob:
    """Return the render job the command line describes; raise JobError naming bad fields."""
    out = Path(args.out)  # type: ignore[attr-defined]
    if out.suffix.lower() not in (".png", ".npy"):
        raise JobError([f"-o: the image name must end in .png or .npy, got {out.name!r}"])
    fields = {"kind": "render", "scene": str(Path(args.scene).resolve()),  # type: ignore
              "frames": parse_frames(args.frames).model_dump(),  # type: ignore[attr-defined]
              "format": out.suffix.lower()[1:], "tile": args.tile}  # type: ignore
    for name in ("width", "height", "spp", "threads"):
        value = getattr(args, name)
        if value is not None:
            fields[name] = value
    spec = parse_job(fields)
    assert isinstance(spec, RenderJob)
    check_scene(spec)
    return spec


def _fail(scene: str, error: JobError) -> int:
    print(f"supervm render: invalid scene or options for {scene}:", file=sys.stderr)
    for line in error.problems:
        print(f"  {line}", file=sys.stderr)
    return _USAGE


def render_command(args: object) -> int:
    """Run `supervm render`; return the exit status (2: invalid scene or options)."""
    if under_mpi_launcher():
        return _as_rank(args)
    try:
        spec = _spec(args)
    except JobError as exc:
        return _fail(args.scene, exc)  # type: ignore[attr-defined]
    out = Path(args.out).resolve()  # type: ignore[attr-defined]
    if not out.parent.is_dir():
        print(f"supervm render: no directory {str(out.parent)!r} for the image", file=sys.stderr)
        return _USAGE
    ranks = args.ranks or 1  # type: ignore[attr-defined]
    if ranks == 1:
        try:
            return _render_here(spec, out, args.threads)  # type: ignore[attr-defined]
        except SceneError as exc:  # a mesh file that exists but does not parse
            return _fail(args.scene, JobError(exc.problems))  # type: ignore[attr-defined]
    try:
        mpiexec = find_mpiexec()
    except FileNotFoundError as exc:
        print(f"supervm render: {exc}", file=sys.stderr)
        return _USAGE
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "supervm", "render",
               spec.scene, "-o", str(out), "--frames", f"{spec.frames.start}:{spec.frames.end}",
               "--tile", str(spec.tile), "--threads", str(spec.threads)]
    for name in ("width", "height", "spp"):
        if getattr(spec, name) is not None:
            command += [f"--{name}", str(getattr(spec, name))]
    print(f"supervm render: {len(spec.frames.numbers())} frame(s) on {ranks} ranks",
          file=sys.stderr, flush=True)
    status = run_ranks(command, args.timeout, mpi_environment(ranks))  # type: ignore
    if status not in (0, TIMED_OUT):
        print(f"supervm render: failed (mpiexec exit status {status})", file=sys.stderr)
    return status


def _render_here(spec: RenderJob, out: Path, threads: int | None) -> int:
    """Render every frame in this process with every core (or `threads`)."""
    from tqdm import tqdm

    from supervm.rendering import prepare, render, save_image
    from supervm.rendering.api import RenderSettings
    from supervm.rendering.tiling import tiles

    compiled = prepare(spec.scene)
    settings = RenderSettings.of(compiled.scene, spec.width, spec.height, spec.spp, spec.tile)
    frames = spec.frames.numbers()
    per_frame = len(tiles(settings.width, settings.height, settings.tile))
    started = time.perf_counter()
    with tqdm(total=per_frame * len(frames), unit="tile", file=sys.stderr, desc="render") as bar:
        for frame in frames:
            image = render(compiled, width=settings.width, height=settings.height,
                           spp=settings.spp, frame=frame, tile=settings.tile, threads=threads,
                           progress=bar.update)
            path = save_image(image, output_path(out, frame, len(frames) > 1))
            bar.write(f"supervm render: frame {frame} -> {path}", file=sys.stderr)
    print(f"supervm render: {len(frames)} frame(s) in {time.perf_counter() - started:.2f} s",
          file=sys.stderr)
    return 0


def _as_rank(args: object) -> int:
    """Render as one rank of an mpiexec; rank 0 writes the images; any failure ends all."""
    from mpi4py import MPI

    from supervm.dist._mpi import RemoteRankError, agree
    from supervm.jobs.render_run import run_render

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    try:
        spec = agree(comm, lambda: _spec(args))[rank]
    except JobError as exc:
        return _fail(args.scene, exc) if rank == 0 else _USAGE  # type: ignore[attr-defined]
    except RemoteRankError:
        return _USAGE
    out = Path(args.out).resolve()  # type: ignore[attr-defined]
    several = spec.frames.end > spec.frames.start
    try:
        report = run_render(spec, comm, out.parent, True, time.time(),
                            path_of=lambda f: output_path(out, f, several))
    except SceneError as exc:  # raised on every rank together (agree): a mesh that won't parse
        return _fail(args.scene, JobError(exc.problems)) if rank == 0 else _USAGE  # type: ignore
    except RemoteRankError:
        return _USAGE if rank != 0 else 1
    except Exception as exc:  # one rank's failure must end every rank, never hang
        print(f"rank {rank}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        time.sleep(0.5)  # let the message reach the user before the abort (see command.py)
        comm.Abort(1)
        return 1
    if rank == 0:
        print(f"supervm render: {report['frames']} frame(s) on {report['ranks']} ranks in "
              f"{report['wall_seconds']:.2f} s ({report['mrays_per_second']:.2f} Mrays/s) -> "
              f"{', '.join(report['images'])}", file=sys.stderr)
    return 0
