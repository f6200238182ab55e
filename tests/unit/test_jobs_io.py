"""Run directories, atomic files, input blocks and the mpiexec wrapper (no MPI needed)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from supervm.jobs.inputs import InlineInput, NpyInput, RandomInput, RandomSpec
from supervm.jobs.launch import (
    TIMED_OUT,
    mpi_environment,
    rank_command,
    run_ranks,
    under_mpi_launcher,
)
from supervm.jobs.loading import input_dtype, input_size, load_block
from supervm.jobs.output import (
    create_npy,
    fill_npy,
    jsonable,
    new_run_dir,
    write_json,
    write_npy,
)


def test_run_directories_are_fresh(tmp_path: Path) -> None:
    first, second = new_run_dir(tmp_path / "runs"), new_run_dir(tmp_path / "runs")
    assert first != second and first.is_dir() and second.parent == tmp_path / "runs"


def test_files_are_written_whole(tmp_path: Path) -> None:
    write_npy(tmp_path / "a.npy", np.arange(5))
    write_json(tmp_path / "r.json", {"x": np.float32(1.5), "nan": float("nan"),
                                     "v": np.array([1, 2]), "inf": -np.inf})
    assert np.load(tmp_path / "a.npy").tolist() == [0, 1, 2, 3, 4]
    assert json.loads((tmp_path / "r.json").read_text()) == {
        "x": 1.5, "nan": "nan", "v": [1, 2], "inf": "-inf"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "r.json"]


def test_ranks_fill_one_gathered_file(tmp_path: Path) -> None:
    temp = create_npy(tmp_path / "all.npy", np.dtype(np.int32), 7)
    fill_npy(temp, 4, np.array([4, 5, 6], dtype=np.int32))
    fill_npy(temp, 0, np.array([0, 1, 2, 3], dtype=np.int32))
    fill_npy(temp, 7, np.array([], dtype=np.int32))
    assert np.load(temp).tolist() == list(range(7))


def test_jsonable_values() -> None:
    assert jsonable((np.uint64(2**64 - 1), [np.nan])) == [2**64 - 1, ["nan"]]


def test_input_blocks(tmp_path: Path) -> None:
    data = np.arange(10, dtype=">i4").reshape(2, 5)  # big-endian, 2-D: read flat, native
    np.save(tmp_path / "d.npy", data)
    source = NpyInput(npy=str(tmp_path / "d.npy"))
    assert input_size(source) == 10 and input_dtype(source) == np.dtype(">i4")
    block = load_block(source, 3, 1, in_memory=False)
    assert block.tolist() == [4, 5, 6] and block.dtype == np.dtype("int32")
    assert load_block(source, 3, 0, in_memory=True).tolist() == [0, 1, 2, 3]
    inline = InlineInput(values=[1, 2.5, 3])
    assert load_block(inline, 2, 1, in_memory=True).tolist() == [3.0]
    generated = RandomInput(random=RandomSpec(n=5, dtype="uint32"))
    assert load_block(generated, 5, 4, in_memory=True).dtype == np.uint32


def test_launcher_environment() -> None:
    assert under_mpi_launcher({"PMI_RANK": "0"}) and not under_mpi_launcher({"HOME": "/"})
    env = mpi_environment(1, {"MPIR_CVAR_CH4_NETMOD": "ucx"})
    assert env["MPIR_CVAR_CH4_NETMOD"] == "ucx", "a user's setting wins"
    assert env["OMPI_ALLOW_RUN_AS_ROOT"] == "1"
    assert "MPIR_CVAR_ENABLE_HEAVY_YIELD" in mpi_environment(10_000, {})
    command = rank_command("/x/mpiexec", 4, Path("j.json"), Path("out"))
    assert command[:3] == ["/x/mpiexec", "-n", "4"] and command[-2:] == ["--out", "out"]


def test_the_deadline_ends_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "survivor"
    # The child shell starts a grandchild that would write the marker after 3 s.
    script = f"(sleep 3; touch {marker}) & sleep 30"
    started = time.monotonic()
    assert run_ranks(["sh", "-c", script], timeout=0.5) == TIMED_OUT
    assert time.monotonic() - started < 10
    time.sleep(3.5)
    assert not marker.exists(), "a process of the group outlived the deadline"


def test_the_exit_status_passes_through() -> None:
    assert run_ranks([sys.executable, "-c", "raise SystemExit(3)"], timeout=30) == 3


def test_no_rank_mode_without_a_launcher() -> None:
    done = subprocess.run([sys.executable, "-c", "from supervm.jobs import parse_job; "
                           "import sys; print('mpi4py.MPI' in sys.modules)"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", "validating a job must not start MPI"


@pytest.mark.parametrize("bad", ["0", "-1", "x"])
def test_cli_refuses_bad_options(bad: str) -> None:
    from supervm.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "job.json", "--np", bad])
