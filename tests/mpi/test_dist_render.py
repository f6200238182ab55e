"""dist.render over 1-3 ranks: the one-process image bit for bit, and failures on every rank."""

from __future__ import annotations

import pytest
from launching import REPO, WORKERS, mpirun

SCENES = REPO / "examples" / "scenes"


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_images_are_identical_on_any_number_of_ranks(ranks: int) -> None:
    done = mpirun(ranks, [str(WORKERS / "render_cases.py"), "same"], timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": ok") == ranks


@pytest.mark.parametrize("ranks", [2, 3])
def test_the_tile_counter_hands_out_each_item_once_in_both_kinds(ranks: int) -> None:
    done = mpirun(ranks, [str(WORKERS / "render_cases.py"), "counter"], timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": ok") == ranks


def test_a_failing_rank_fails_every_rank() -> None:
    done = mpirun(3, [str(WORKERS / "render_cases.py"), "fail"], timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("remote rank 2 failed") == 2
    assert "rank 2: local scene file: cannot read" in done.stdout
