"""The `make run` demo: sort and reduce a large generated array next to numpy."""

from __future__ import annotations

import numpy as np

import supervm
from supervm.timing import best_times


def _row(name: str, ours: float, theirs: float) -> str:
    return f"{name:<28} {ours * 1e3:>10.1f} ms {theirs * 1e3:>10.1f} ms {theirs / ours:>8.2f}x"


def run_demo(n: int = 20_000_000, repeat: int = 3, seed: int = 0) -> None:
    """Generate `n` random values, run every kernel and numpy's twin, print timings."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    print(f"supervm {supervm.__version__}: {supervm.cpu_count()} cores, n = {n:,}")
    ints = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, n, dtype=np.int64)
    floats = rng.standard_normal(n)
    cases = {
        "sort int64": (lambda: supervm.sort(ints), lambda: np.sort(ints)),
        "sort float64": (lambda: supervm.sort(floats), lambda: np.sort(floats)),
        "argsort int64 (stable)": (
            lambda: supervm.argsort(ints[: n // 5]),
            lambda: np.argsort(ints[: n // 5], kind="stable"),
        ),
        "sum float64": (lambda: supervm.sum(floats), lambda: np.sum(floats)),
        "min float64": (lambda: supervm.min(floats), lambda: np.min(floats)),
        "var float64": (lambda: supervm.var(floats), lambda: np.var(floats)),
        "histogram float64 (256)": (
            lambda: supervm.histogram(floats, 256),
            lambda: np.histogram(floats, 256),
        ),
    }
    print(f"{'kernel':<28} {'supervm':>13} {'numpy':>13} {'speed-up':>9}")
    for name, (ours, theirs) in cases.items():
        t = best_times({"ours": ours, "numpy": theirs}, repeat=repeat)
        print(_row(name, t["ours"], t["numpy"]), flush=True)
    if not np.array_equal(supervm.sort(ints), np.sort(ints)):
        raise RuntimeError("supervm.sort disagrees with numpy.sort")
    print("results checked against numpy: sort identical")
