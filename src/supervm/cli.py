"""The `supervm` command line."""

from __future__ import annotations

import argparse
import sys


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="supervm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="sort and reduce a large generated array next to numpy")
    demo.add_argument("-n", type=_positive_int, default=20_000_000, help="elements (20M)")
    demo.add_argument("--repeat", type=_positive_int, default=3, help="timed rounds (3)")
    demo.add_argument("--seed", type=int, default=0, help="generator seed (0)")
    _add_run(sub)
    _add_render(sub)
    _add_serve(sub)
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _add_run(sub: argparse._SubParsersAction) -> None:
    from supervm.jobs.describe import describe_jobs

    run = sub.add_parser(
        "run",
        help="run a job file on MPI ranks",
        description=(
            "Run a job file on MPI ranks. Started from a shell, validate the job (exit 2 if "
            "invalid, before any rank starts) and start mpiexec with --np ranks; started as a "
            "rank by an mpiexec you ran (mpiexec -n 4 python -m supervm run job.json), run as "
            "one of them. Outputs and result.json go to the run directory."
        ),
        epilog=describe_jobs(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("job", help="the job file (JSON)")
    run.add_argument("--np", type=_positive_int, default=None, dest="ranks",
                     help="ranks to start (default: the job's `ranks`, else 1)")
    run.add_argument("--out", default=None,
                     help="run directory (default runs/<time>-<id>/ under the current one)")
    run.add_argument("--timeout", type=_positive_float, default=None,
                     help="stop every rank after this many seconds (exit status 124)")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {value}")
    return value


def _add_serve(sub: argparse._SubParsersAction) -> None:
    import os

    serve = sub.add_parser(
        "serve", help="start the HTTP service and its persistent MPI world",
        description="Start the HTTP API (uvicorn) and a persistent MPI world of --ranks local "
                    "ranks that runs the submitted jobs one after another.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (127.0.0.1); others need a token set up first")
    # A string default goes through `type` too, so a bad SUPERVM_API_PORT is reported as such.
    serve.add_argument("--port", type=_port, default=os.environ.get("SUPERVM_API_PORT", "3000"),
                       help="port (SUPERVM_API_PORT, else 3000)")
    serve.add_argument("--ranks", type=_positive_int, default=2, help="ranks of the world (2)")
    serve.add_argument("--state-dir", default=None,
                       help="store, token, runs (SUPERVM_STATE_DIR, else ~/.local/state/supervm)")
    serve.add_argument("--max-body-mb", type=_positive_float, default=16.0,
                       help="largest request body in MiB (16)")
    serve.add_argument("--max-elements", type=_positive_int, default=1_000_000_000,
                       help="largest job input in elements (1e9)")
    serve.add_argument("--job-timeout", type=_positive_float, default=3600.0,
                       help="seconds a job may run before the world is restarted (3600)")
    serve.add_argument("--solo-below", type=int, default=65_536,
                       help="jobs of fewer elements run on rank 0 alone (65536; 0: never)")
    serve.add_argument("--launch-state-dir", default=None,
                       help="where guests' runs live (SUPERVM_LAUNCH_STATE, else "
                            "/var/lib/supervm-launch; shared with supervm-launch)")
    serve.add_argument("--launch-specs", default=None,
                       help="directory of the cluster specs POST /api/vms may name "
                            "(SUPERVM_LAUNCH_SPECS, else the checkout's launch/)")


def _add_render(sub: argparse._SubParsersAction) -> None:
    render = sub.add_parser(
        "render",
        help="render a scene file to images",
        description=(
            "Render a scene (JSON; see docs/scenes.md) to a PNG (8-bit sRGB) or .npy (linear "
            "float32). With several frames, out.png becomes out-0001.png, out-0002.png, ... "
            "(the frame number). --np N starts N MPI ranks that share the tiles; a bad scene "
            "stops with exit status 2 naming the field."
        ),
    )
    render.add_argument("scene", help="the scene file (JSON)")
    render.add_argument("-o", "--out", required=True, help="image file (.png or .npy)")
    render.add_argument("--np", type=_positive_int, default=None, dest="ranks",
                        help="ranks to start (default 1: render here with every core)")
    render.add_argument("--frames", default="0", help="frame A or range A:B, both included (0)")
    render.add_argument("--width", type=_positive_int, default=None,
                        help="image width (default: the scene's)")
    render.add_argument("--height", type=_positive_int, default=None,
                        help="image height (default: the scene's)")
    render.add_argument("--spp", type=_positive_int, default=None,
                        help="samples per pixel (default: the scene's)")
    render.add_argument("--tile", type=_positive_int, default=32, help="tile edge in pixels (32)")
    render.add_argument("--threads", type=_positive_int, default=None,
                        help="threads per rank (default: every core alone, 1 per rank with --np)")
    render.add_argument("--timeout", type=_positive_float, default=None,
                        help="stop every rank after this many seconds (exit status 124)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from supervm.demo import run_demo

        run_demo(n=args.n, repeat=args.repeat, seed=args.seed)
    elif args.command == "run":
        from supervm.jobs.command import run_command

        return run_command(args.job, args.ranks, args.out, args.timeout)
    elif args.command == "serve":
        from pathlib import Path

        from supervm.service.app import default_state_dir
        from supervm.service.server import serve

        return serve(args.host, args.port, args.ranks,
                     Path(args.state_dir) if args.state_dir else default_state_dir(),
                     max_body_bytes=int(args.max_body_mb * 2**20),
                     max_elements=args.max_elements, job_timeout_s=args.job_timeout,
                     solo_below=args.solo_below,
                     launch_state_dir=Path(args.launch_state_dir) if args.launch_state_dir
                     else None,
                     spec_dir=Path(args.launch_specs) if args.launch_specs else None)
    elif args.command == "render":
        from supervm.jobs.render_command import render_command

        return render_command(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
