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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from supervm.demo import run_demo

        run_demo(n=args.n, repeat=args.repeat, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
