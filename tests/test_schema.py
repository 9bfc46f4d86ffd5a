"""`archspec schema`: the JSON Schema editors use, judged by the jsonschema validator.

Every reference spec must validate (block calls included), the committed archspec.schema.json
must be exactly what `archspec schema` prints, and on mistakes the schema must agree with the
loader: what the loader refuses for a reason a schema can see, the schema refuses too.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

import archspec
from archspec.cli import main
from archspec.diagnostics import SpecError
from archspec.frontend.schema import schema_text, spec_schema
from archspec.frontend.source import parse_yaml, to_python
from archspec.ops import OPS
from tests.conftest import ROOT, SPECS

SCHEMA_LINE = "# yaml-language-server: $schema=../archspec.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def spec_data(text: str) -> Any:
    """The spec as the loader reads it (YAML with archspec's float rule), without locations."""
    return to_python(parse_yaml(text, "<spec>"))


def messages(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(data)]


def test_committed_schema_is_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    committed = (ROOT / "archspec.schema.json").read_text(encoding="utf-8")
    assert printed == schema_text()
    assert committed == printed, (
        "archspec.schema.json is stale: run `archspec schema -o archspec.schema.json`"
    )


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_every_reference_spec_validates(
    path: Any, validator: jsonschema.Draft202012Validator
) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_LINE
    assert messages(validator, spec_data(text)) == []


def test_the_library_exercises_block_calls_and_params() -> None:
    """Guard the guard: the specs above do contain block calls and $param references."""
    texts = [p.read_text(encoding="utf-8") for p in SPECS]
    assert any("blocks:" in t for t in texts)
    assert any("$" in t for t in texts)


def test_every_op_is_in_the_schema(validator: jsonschema.Draft202012Validator) -> None:
    layer = validator.schema["$defs"]["Layer"]["properties"]
    for kind, cls in OPS.items():
        if kind == "input":
            assert kind not in layer  # only the header's input: entry makes an input
            continue
        fields = validator.schema["$defs"][f"op.{kind}"]["properties"]
        assert set(fields) == set(cls.model_fields), kind


BASE = """
archspec: 1
name: probe
params: {width: 8, act: relu}
input: {shape: [16, 16, 3]}
blocks:
  unit:
    args: {filters: int}
    layers:
      - conv2d: {filters: $filters, kernel_size: 3, padding: same, activation: $act}
layers:
  - unit: {filters: 4}
  - conv2d: {filters: $width, kernel_size: 3}
    name: c
  - flatten: {}
  - dense: {units: 10}
"""


def mutate(path: tuple[Any, ...], value: Any) -> Any:
    data = spec_data(BASE)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = copy.deepcopy(value)
    return data


DELETE = object()
# Mistakes a schema can see; the loader refuses each of them too.
MISTAKES = [
    (("layers", 1, "conv2d", "filterz"), 3),  # unknown field
    (("layers", 1, "conv2d", "filters"), "eight"),  # wrong type, not a $param
    (("layers", 1, "conv2d", "padding"), "sme"),  # not one of the literals
    (("layers", 1, "conv2d", "strides"), 0),  # out of range
    (("layers", 3, "dense", "activation"), "rellu"),
    (("layers", 3, "dense", "kernel_regularizer"), {"l3": 1.0}),
    (("layers", 1, "repeat"), 0),
    (("layers", 0, "unit"), 4),  # block arguments must be a mapping
    (("layers", 2), {"name": "lonely"}),  # no op at all
    (("archspec",), 2),
    (("input", "shape"), [16, 0, 3]),
    (("params", "9lives"), 1),
    (("layers",), []),
    (("name",), DELETE),
    (("extra",), 1),
]


@pytest.mark.parametrize(("path", "value"), MISTAKES, ids=[str(m[0]) for m in MISTAKES])
def test_schema_and_loader_both_refuse(
    path: tuple[Any, ...], value: Any, validator: jsonschema.Draft202012Validator
) -> None:
    data = mutate(path, value)
    assert messages(validator, data), "the schema accepted it"
    with pytest.raises(SpecError):
        archspec.check(json.dumps(data) + "\n")


def test_schema_and_loader_both_accept_the_base(validator: jsonschema.Draft202012Validator) -> None:
    assert messages(validator, spec_data(BASE)) == []
    assert archspec.check(BASE).total_params > 0


ACCEPTED = [
    (("layers", 1, "conv2d", "filters"), "$width"),
    (("layers", 1, "conv2d", "kernel_regularizer"), {"l2": 0.001}),
    (("layers", 2), {"flatten": None}),
    (("layers", 1, "inputs"), ["unit"]),
    (("layers", 1, "name"), "c_${width}"),
]


@pytest.mark.parametrize(("path", "value"), ACCEPTED, ids=[str(m[0]) for m in ACCEPTED])
def test_schema_and_loader_both_accept(
    path: tuple[Any, ...], value: Any, validator: jsonschema.Draft202012Validator
) -> None:
    data = mutate(path, value)
    assert messages(validator, data) == []
    assert archspec.check(json.dumps(data) + "\n").total_params > 0
