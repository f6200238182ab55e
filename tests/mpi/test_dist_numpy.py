"""supervm.dist equals numpy on 1-4 ranks, for every distribution, dtype and sort method."""

from __future__ import annotations

import pytest
from launching import WORKERS, mpirun


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_dist_matches_numpy(ranks: int) -> None:
    done = mpirun(ranks, [str(WORKERS / "dist_cases.py")], timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "PASS" in done.stdout and f"on {ranks} ranks" in done.stdout
