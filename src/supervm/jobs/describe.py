"""Plain-text reference of every job field, generated from the models (for --help)."""

from __future__ import annotations

import json
import textwrap
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from supervm.jobs.inputs import InlineInput, NpyInput, RandomInput, RandomSpec
from supervm.jobs.models import JOB_MODELS, KINDS, JobBase

_WIDTH = 92


_SCALARS = {int: "integer", float: "number", bool: "true/false", str: "string",
            type(None): "null"}


def _type_name(annotation: Any) -> str:
    """Return a JSON-flavoured name of a field's type: "integer", "\"a\" | \"b\"", ..."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(dict.fromkeys(_type_name(a) for a in args))  # once each
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is tuple:
        return "[" + ", ".join(_type_name(a) for a in args) + "]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return _SCALARS.get(annotation, str(annotation))


def _bounds(info: Any) -> str:
    """Return the numeric constraints of a field as text ("> 0", ">= 1"), or ""."""
    marks = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    found = [f"{sign} {getattr(m, key)}" for m in info.metadata for key, sign in marks.items()
             if getattr(m, key, None) is not None]
    return f", {' and '.join(found)}" if found else ""


def _fields(model: type[BaseModel], skip: tuple[str, ...] = (), indent: str = "    ") -> list[str]:
    """Return one entry per field of `model`: name, type, default and description."""
    lines = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        if info.default is PydanticUndefined and info.default_factory is None:
            default = "required"
        elif info.default_factory is not None:
            made = info.default_factory()  # type: ignore[call-arg]
            made = made.model_dump(mode="json") if isinstance(made, BaseModel) else made
            default = f"default {json.dumps(made)}"
        else:
            default = f"default {json.dumps(info.default)}"
        head = f"{indent}{name} ({_type_name(info.annotation)}{_bounds(info)}; {default})"
        lines.append(head)
        if info.description:
            lines += textwrap.wrap(info.description, _WIDTH, initial_indent=indent + "    ",
                                   subsequent_indent=indent + "    ")
    return lines


def describe_jobs() -> str:
    """Return the reference of every job kind, its fields and the input forms."""
    lines = ["job file fields (JSON):", "", "  every job (render has no input; see below):"]
    kinds = " | ".join(json.dumps(k) for k in KINDS)
    lines += [f"    kind ({kinds}; required)",
              f"        {JOB_MODELS[0].model_fields['kind'].description}"]
    lines += _fields(JobBase)
    lines.append("")
    for model in JOB_MODELS:
        kind = model.model_fields["kind"].annotation.__args__[0]
        lines.append(f"  kind \"{kind}\": {(model.__doc__ or '').strip()}")
        shared = JobBase.model_fields if issubclass(model, JobBase) else ()
        lines += _fields(model, skip=(*shared, "kind"))
    lines += ["", "input forms:"]
    for form in (InlineInput, NpyInput, RandomInput):
        lines.append(f"  {(form.__doc__ or '').strip()}")
        lines += _fields(form)
    lines.append("  random generator fields:")
    lines += _fields(RandomSpec, indent="      ")
    lines += ["", "examples:",
              '  {"kind": "sort", "input": {"random": {"n": 1000000, "dtype": "int64", '
              '"dist": "zipf", "seed": 1}}}',
              '  {"kind": "render", "scene": "scenes/cornell.json", "frames": {"start": 1, '
              '"end": 24}}']
    return "\n".join(lines)
