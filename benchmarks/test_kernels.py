"""pytest-benchmark suite: each kernel and numpy on the same input, one group per case.

Sizes are the issue's divided by SUPERVM_BENCH_DIVISOR (default 10) so the suite stays
quick; `benchmarks/ratios.py` measures the full sizes side by side.
"""

from __future__ import annotations

import os

import pytest
from cases import CASES

DIVISOR = int(os.environ.get("SUPERVM_BENCH_DIVISOR", "10"))
_inputs: dict[str, object] = {}


def _input(case):
    if case.name not in _inputs:
        _inputs.clear()  # keep one input alive at a time
        _inputs[case.name] = case.make_input(max(1, case.size // DIVISOR))
    return _inputs[case.name]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("who", ["supervm", "numpy"])
def test_kernel(benchmark, case, who: str) -> None:
    data = _input(case)
    fn = case.ours if who == "supervm" else case.peers["numpy"]
    benchmark.group = case.name
    benchmark.pedantic(fn, args=(data,), rounds=5, warmup_rounds=1)
