"""`supervm run`: bad job files stop before any rank starts; good ones produce numpy's answer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from launching import REPO, mpirun, supervm_cli

from supervm.jobs import load_job_file
from supervm.jobs.describe import describe_jobs
from supervm.jobs.generate import generate
from supervm.jobs.models import JOB_MODELS

EXAMPLES = REPO / "examples" / "jobs"

BAD_JOBS = [
    ({"kind": "shuffle", "input": {"values": [1]}}, "kind: Input should be one of sort"),
    ({"input": {"values": [1]}}, "kind: Field required"),
    ({"kind": "sort"}, "input: Field required"),
    ({"kind": "sort", "input": {"random": {"n": -5}}},
     "input.random.n: Input should be greater than 0"),
    ({"kind": "sum", "input": {"random": {"n": 5, "dtype": "float16"}}},
     "input.random.dtype: Input should be 'int32'"),
    ({"kind": "sum", "input": {"random": {"n": 5, "dist": "poisson"}}},
     "input.random.dist: Input should be 'uniform'"),
    ({"kind": "sum", "input": {"npy": "missing.npy"}}, "input.npy: cannot read"),
    ({"kind": "histogram", "input": {"values": [1, 2]}, "bins": 0},
     "bins: Input should be greater than 0"),
    ({"kind": "sort", "input": {"values": [1]}, "speed": "fast"},
     "speed: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("job", "message"), BAD_JOBS)
def test_a_bad_job_fails_before_any_rank_starts(tmp_path: Path, job: dict, message: str) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    started = time.monotonic()
    done = supervm_cli(["run", str(path), "--np", "2"], cwd=tmp_path, timeout=30)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists(), "no run directory: nothing started"
    assert time.monotonic() - started < 10


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "bad.npy").write_bytes(b"not an npy file")
    (tmp_path / "job.json").write_text(json.dumps({"kind": "sum", "input": {"npy": "bad.npy"}}))
    (tmp_path / "text.json").write_text("{not json")
    done = supervm_cli(["run", str(tmp_path / "job.json")], cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "input.npy: cannot read" in done.stderr
    done = supervm_cli(["run", str(tmp_path / "text.json")], cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "not valid JSON: line 1" in done.stderr
    done = supervm_cli(["run", str(tmp_path / "absent.json")], cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_help_documents_every_field() -> None:
    done = supervm_cli(["run", "--help"], timeout=30)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse may rewrap; compare words
    for model in JOB_MODELS:
        for name, info in model.model_fields.items():
            assert name in text
            if info.description:
                assert " ".join(info.description.split()) in text, (model.__name__, name)
    for name in ("values", "npy", "random", "seed", "dist", "zipf", "--np", "--timeout"):
        assert name in text
    assert describe_jobs().splitlines()[0] in done.stdout


def _sorted_blocks(run: Path, stem: str) -> tuple[np.ndarray, list[int]]:
    manifest = json.loads((run / f"{stem}.manifest.json").read_text())
    blocks = [np.load(run / b["file"]) for b in manifest["blocks"]]
    assert [b["count"] for b in manifest["blocks"]] == [len(b) for b in blocks]
    return np.concatenate(blocks), [len(b) for b in blocks]


def test_the_example_jobs_run_as_they_are(tmp_path: Path) -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        spec = load_job_file(path)
        run = tmp_path / path.stem
        done = supervm_cli(["run", str(path), "--np", "2", "--out", str(run)], timeout=120)
        assert done.returncode == 0, done.stderr
        report = json.loads((run / "result.json").read_text())
        assert report["kind"] == spec.kind and report["ranks"] == 2
        assert set(report["phases"]) >= {"write"} if spec.kind in ("sort", "argsort") else True
        assert "result.json" in done.stdout


def test_sort_job_outputs_equal_numpy(tmp_path: Path) -> None:
    source = {"random": {"n": 200_003, "dtype": "float32", "dist": "few-distinct", "seed": 9}}
    data = generate(load_job_file(_write(tmp_path / "s.json", {"kind": "sort", "input": source}))
                    .input.random)
    for kind, extra, ranks in (("sort", {}, 3), ("argsort", {"rebalance": True}, 2)):
        run = tmp_path / kind
        job = _write(tmp_path / f"{kind}.json", {"kind": kind, "input": source, **extra})
        done = supervm_cli(["run", str(job), "--np", str(ranks), "--out", str(run)])
        assert done.returncode == 0, done.stderr
        stem = "sorted" if kind == "sort" else "indices"
        values, sizes = _sorted_blocks(run, stem)
        report = json.loads((run / "result.json").read_text())
        if kind == "sort":
            assert np.array_equal(values, np.sort(data))
            assert max(sizes) <= data.size / ranks * 1.1
        else:
            assert np.array_equal(values, np.argsort(data, kind="stable"))
            assert report["counts"]["out"] == report["counts"]["in"]
        assert len(report["sent_bytes"]) == ranks and sum(report["received_bytes"]) > 0
        assert report["balance"]["max_over_mean"] < 1.1
        for phase in ("generate", "sample", "partition", "exchange", "sort", "write"):
            assert len(report["phases"][phase]) == ranks


def test_gathered_output_and_npy_input(tmp_path: Path) -> None:
    data = np.random.default_rng(4).integers(-1000, 1000, 10_001).astype(np.int32)
    np.save(tmp_path / "in.npy", data)
    job = _write(tmp_path / "job.json", {"kind": "sort", "input": {"npy": "in.npy"},
                                         "gather": True, "method": "presort"})
    done = supervm_cli(["run", str(job), "--np", "3", "--out", str(tmp_path / "run")])
    assert done.returncode == 0, done.stderr
    assert np.array_equal(np.load(tmp_path / "run" / "sorted.npy"), np.sort(data))
    assert not list((tmp_path / "run").glob(".*tmp*")), "temporary files left behind"


def test_ranks_started_by_the_user(tmp_path: Path) -> None:
    """`mpiexec -n 3 python -m supervm run job.json` runs as the ranks themselves."""
    values = [5.0, float(2**60), -3.0, 7.5, 1e-300, 42.0, -0.0]
    job = _write(tmp_path / "job.json", {"kind": "var", "ddof": 1, "input": {"values": values}})
    done = mpirun(3, ["-m", "supervm", "run", str(job)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1, "one run directory, chosen by rank 0"
    report = json.loads((runs[0] / "result.json").read_text())
    assert report["result"] == pytest.approx(np.var(values, ddof=1), rel=1e-12)
    assert report["ranks"] == 3 and "var = " in done.stdout


def test_reduction_results_in_the_report(tmp_path: Path) -> None:
    source = {"random": {"n": 123_457, "dtype": "uint32", "dist": "zipf", "seed": 2}}
    data = generate(load_job_file(_write(tmp_path / "x.json", {"kind": "sum", "input": source}))
                    .input.random)
    jobs = {"sum": {}, "max": {}, "mean": {}, "std": {"ddof": 1},
            "histogram": {"bins": 5, "range": [0, 100]}}
    for kind, extra in jobs.items():
        run = tmp_path / kind
        job = _write(tmp_path / f"{kind}.json", {"kind": kind, "input": source, **extra})
        done = supervm_cli(["run", str(job), "--np", "2", "--out", str(run)])
        assert done.returncode == 0, done.stderr
        result = json.loads((run / "result.json").read_text())["result"]
        if kind == "sum":
            assert result == int(np.sum(data, dtype=np.uint64))
        elif kind == "max":
            assert result == int(data.max())
        elif kind == "mean":
            assert result == pytest.approx(data.mean(), rel=1e-12)
        elif kind == "std":
            assert result == pytest.approx(data.std(ddof=1), rel=1e-12)
        else:
            counts, edges = np.histogram(data, 5, (0, 100))
            assert result["counts"] == counts.tolist() and result["edges"] == edges.tolist()


def _write(path: Path, job: dict) -> Path:
    path.write_text(json.dumps(job))
    return path
