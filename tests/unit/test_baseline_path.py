"""The baseline (non-AVX2) build of the reduction kernels agrees with numpy too."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    import numpy as np
    import supervm
    rng = np.random.default_rng(4)
    for dtype in ("int32", "int64", "uint32", "uint64", "float32", "float64"):
        a = (rng.standard_normal(300_001) * 1000).astype(dtype)
        assert supervm.sum(a) == np.sum(a) if a.dtype.kind in "iu" else np.isclose(
            supervm.sum(a), np.sum(a), rtol=1e-5)
        assert supervm.min(a) == np.min(a) and supervm.max(a) == np.max(a)
        assert np.isclose(supervm.var(a), np.var(a.astype(np.float64)), rtol=1e-5)
        counts, edges = supervm.histogram(a, 97)
        want_counts, want_edges = np.histogram(a, 97)
        assert (counts == want_counts).all() and (edges == want_edges).all(), dtype
    print("ok")
    """
)


def test_reductions_without_avx2_match_numpy() -> None:
    env = dict(os.environ, SUPERVM_NO_AVX2="1")
    done = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
