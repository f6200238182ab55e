"""What the ratio scripts share: their command line and their verdict."""

from __future__ import annotations

import argparse
from pathlib import Path


def ratio_parser(doc: str, repeat_help: str, scale_help: str,
                 workers: bool = False, repeat: int = 5) -> argparse.ArgumentParser:
    """Return a parser with --repeat and --scale (and the hidden --worker/--json of mpiexec)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=repeat, help=repeat_help)
    parser.add_argument("--scale", type=float, default=1.0, help=scale_help)
    if workers:
        # The script starts itself under mpiexec; its ranks write their timings to --json.
        parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    return parser


def verdict(missed: list[str], scale: float) -> int:
    """Print the missed targets and return the exit status (targets hold at full scale only)."""
    if missed and scale == 1.0:
        print(f"below target: {', '.join(missed)}")
        return 1
    return 0
