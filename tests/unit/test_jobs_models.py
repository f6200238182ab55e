"""Job models: what they accept, what they refuse, and how refusals name the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervm.jobs import KINDS, JobError, parse_job
from supervm.jobs.describe import describe_jobs
from supervm.jobs.inputs import InlineInput, NpyInput, RandomInput
from supervm.jobs.models import (
    DATA_MODELS,
    JOB_MODELS,
    HistogramJob,
    SortJob,
    VarJob,
    job_adapter,
)
from supervm.jobs.validation import load_job_file, with_paths_from


def problems(job: object) -> list[str]:
    with pytest.raises(JobError) as caught:
        parse_job(job)
    return caught.value.problems


def test_every_kind_parses_with_its_defaults() -> None:
    assert KINDS == ("sort", "argsort", "sum", "min", "max", "mean", "var", "std", "histogram",
                     "render")
    for kind in KINDS[:-1]:  # render takes a scene, not an input (test_render_jobs.py)
        spec = parse_job({"kind": kind, "input": {"values": [3, 1, 2]}})
        assert spec.kind == kind and spec.threads == 1 and spec.ranks is None
        assert isinstance(spec.input, InlineInput) and spec.input.resolved_dtype() == "int64"


def test_input_forms_are_told_apart_by_their_key() -> None:
    forms = {
        "values": ({"values": [1.5, 2]}, InlineInput),
        "npy": ({"npy": "a.npy"}, NpyInput),
        "random": ({"random": {"n": 10}}, RandomInput),
    }
    for source, model in forms.values():
        assert isinstance(parse_job({"kind": "sum", "input": source}).input, model)
    spec = parse_job({"kind": "sum", "input": {"random": {"n": 10}}})
    assert spec.input.random.dtype == "float64" and spec.input.random.dist == "uniform"


@pytest.mark.parametrize(("job", "expected"), [
    ({"kind": "sort", "input": {"random": {"n": 0}}},
     "input.random.n: Input should be greater than 0"),
    ({"kind": "sort", "input": {"random": {"n": 5, "seed": -1}}},
     "input.random.seed: Input should be greater than or equal to 0"),
    ({"kind": "sort", "input": {"random": {"n": 5, "size": 3}}},
     "input.random.size: Extra inputs are not permitted"),
    ({"kind": "sum", "input": {"values": [1, "x"]}}, "input.values.1"),
    ({"kind": "sum", "input": {"values": [-1], "dtype": "uint32"}},
     "input.values: values[0] = -1 does not fit in uint32"),
    ({"kind": "sum", "input": {"values": [0.5], "dtype": "int64"}},
     "input.values: values[0] = 0.5 is not an integer but dtype is int64"),
    ({"kind": "sum", "input": {"npy": ""}}, "input.npy: String should have at least 1 character"),
    ({"kind": "sum", "input": {}}, "input: Input should have one of the keys"),
    ({"kind": "sum", "input": {"values": [1]}, "threads": 0},
     "threads: Input should be greater than or equal to 1"),
    ({"kind": "histogram", "input": {"values": [1]}, "range": [2, 1]},
     "range: range must have low <= high"),
    ({"kind": "var", "input": {"values": [1]}, "ddof": "many"}, "ddof: Input should be a valid"),
    ({"kind": "sort", "input": {"values": [1]}, "method": "bogo"}, "method: Input should be"),
    ({"kind": "shuffle", "input": {"values": [1]}}, "kind: Input should be one of sort"),
    ({"kind": "render", "input": {"values": [1]}}, "input: Extra inputs are not permitted"),
    ({"input": {"values": [1]}}, "kind: Field required"),
    ([1, 2], "job: expected a JSON object"),
])
def test_refusals_name_the_field(job: object, expected: str) -> None:
    found = problems(job)
    assert any(line.startswith(expected) for line in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"kind": "histogram", "input": {"random": {"n": -1}}, "bins": -2})
    assert len(found) == 2


@given(st.sampled_from(DATA_MODELS), st.integers(1, 10**9), st.integers(0, 2**63))
def test_specs_survive_a_json_round_trip(model: type, n: int, seed: int) -> None:
    kind = model.model_fields["kind"].annotation.__args__[0]
    spec = parse_job({"kind": kind, "input": {"random": {"n": n, "seed": seed}}, "ranks": 3})
    again = parse_job(json.loads(json.dumps(spec.model_dump(mode="json"))))
    assert again == spec


def test_kind_specific_fields() -> None:
    sort = parse_job({"kind": "argsort", "input": {"values": [1]}, "rebalance": True,
                      "gather": True, "method": "presort"})
    assert isinstance(sort, SortJob) and sort.rebalance and sort.gather
    hist = parse_job({"kind": "histogram", "input": {"values": [1]}, "bins": 3,
                      "range": [0, 1]})
    assert isinstance(hist, HistogramJob) and hist.range == (0.0, 1.0)
    std = parse_job({"kind": "std", "input": {"values": [1]}, "ddof": 1})
    assert isinstance(std, VarJob) and std.ddof == 1
    assert "ddof" in problems({"kind": "sum", "input": {"values": [1]}, "ddof": 1})[0]


def test_the_schema_is_a_discriminated_union() -> None:
    schema = job_adapter.json_schema()
    assert schema["discriminator"]["propertyName"] == "kind"
    assert set(schema["discriminator"]["mapping"]) == set(KINDS)


def test_job_files_resolve_npy_paths_against_their_directory(tmp_path) -> None:
    import numpy as np

    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "a.npy", np.arange(4, dtype=np.int32))
    (tmp_path / "sub" / "job.json").write_text(json.dumps(
        {"kind": "sum", "input": {"npy": "a.npy"}}))
    spec = load_job_file(tmp_path / "sub" / "job.json")
    assert spec.input.npy == str(tmp_path / "sub" / "a.npy")
    absolute = parse_job({"kind": "sum", "input": {"npy": "/x/a.npy"}})
    assert with_paths_from(absolute, tmp_path) == absolute


def test_npy_files_are_checked(tmp_path) -> None:
    import numpy as np

    np.save(tmp_path / "f16.npy", np.zeros(3, dtype=np.float16))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.zeros((3, 2))))
    for name, message in (("f16.npy", "holds float16"), ("fortran.npy", "Fortran-ordered"),
                          ("none.npy", "cannot read")):
        (tmp_path / "job.json").write_text(json.dumps({"kind": "sum", "input": {"npy": name}}))
        with pytest.raises(JobError, match=message):
            load_job_file(tmp_path / "job.json")


def test_the_reference_lists_every_field() -> None:
    text = describe_jobs()
    for model in (*JOB_MODELS, InlineInput, NpyInput, RandomInput):
        for name in model.model_fields:
            assert f"    {name} (" in text, name
    for kind in KINDS:
        assert f'kind "{kind}"' in text
