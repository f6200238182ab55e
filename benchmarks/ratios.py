"""Print speed-ups of supervm over its peers, measured side by side in one process.

Each case interleaves supervm and every peer for `--repeat` rounds on the same input and
keeps each one's minimum (noise on a shared machine only ever adds time). Ten rounds by
default: a two-thread call is hit by the other tenants' noise more often than numpy's
one-thread call, and five rounds left its minimum 10-30% off now and then.

    python benchmarks/ratios.py [--repeat 10] [--scale 1.0] [--only sort]
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from cases import CASES
from common import ratio_parser, verdict

import supervm
from supervm.timing import best_times


def main() -> int:
    """Run every selected case and print the ratio table; exit 1 if a target is missed."""
    parser = ratio_parser(__doc__, "interleaved rounds (>= 5)", "multiply every input size",
                          repeat=10)
    parser.add_argument("--only", default="", help="run cases whose name contains this")
    args = parser.parse_args()

    print(f"supervm {supervm.__version__} on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; minimum of {args.repeat} interleaved rounds")
    header = (f"| {'kernel':<30} | {'n':>6} | {'supervm':>10} | {'numpy':>10} "
              f"| {'speed-up':>8} | target |")
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    missed = []
    for case in CASES:
        if args.only not in case.name:
            continue
        n = max(1, int(case.size * args.scale))
        data = case.make_input(n)
        candidates = {"supervm": lambda f=case.ours, d=data: f(d)}
        candidates.update({name: (lambda f=f, d=data: f(d)) for name, f in case.peers.items()})
        best = best_times(candidates, repeat=args.repeat)
        ratio = best["numpy"] / best["supervm"]
        ok = ratio >= case.target
        if not ok:
            missed.append(case.name)
        mark = "" if ok else " MISSED"
        print(f"| {case.name:<30} | {n / 1e6:>5.0f}M | {best['supervm'] * 1e3:>7.1f} ms | "
              f"{best['numpy'] * 1e3:>7.1f} ms | {ratio:>7.2f}x | {case.target:>4.1f}x{mark} |",
              flush=True)
        del data
    return verdict(missed, args.scale)


if __name__ == "__main__":
    sys.exit(main())
