"""`archspec ops`: the op reference is read off the op table, so it must show every op and field
with pydantic's own defaults; misspellings get "did you mean", on the command line and in specs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from archspec.cli import main
from archspec.diagnostics import SpecError
from archspec.frontend.load import load
from archspec.ops import OPS, reference


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def field_rows(text: str) -> dict[str, list[str]]:
    """Rows of ``archspec ops OP``: field name -> [name, type, default]."""
    lines = text.split("fields:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines if not line.startswith(" " * 6)]
    return {row[0]: row for row in rows[1:]}


def expected_default(cls: type, name: str) -> object:
    info = cls.model_fields[name]
    value = info.get_default()
    return value.model_dump(exclude_none=True) if isinstance(value, BaseModel) else value


def test_list_shows_every_op_and_field(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ops"], capsys)
    assert code == 0
    for kind, cls in OPS.items():
        match = re.search(rf"^  {kind} - (.*)$", out, re.MULTILINE)
        assert match, kind
        assert match.group(1) == (cls.__doc__ or "").strip().splitlines()[0]
    assert sum(len(cls.model_fields) for cls in OPS.values()) == len(
        [line for line in out.splitlines() if line.startswith(" " * 6)]
    )


@pytest.mark.parametrize("kind", list(OPS))
def test_one_op_shows_pydantics_fields_defaults_and_descriptions(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cls = OPS[kind]
    code, out, _ = run(["ops", kind], capsys)
    assert code == 0
    assert out.startswith(f"{kind} ({cls.family})")
    if not cls.model_fields:
        assert "fields: none" in out
        return
    rows = field_rows(out)
    assert set(rows) == set(cls.model_fields)
    for name, info in cls.model_fields.items():
        default = rows[name][-1]
        if info.is_required():
            assert default == "required"
        else:
            assert json.loads(default) == expected_default(cls, name), (kind, name)
        if info.description:
            assert " ".join(info.description.split()) in " ".join(out.split())


def test_types_come_from_the_schema() -> None:
    rows = {f.name: f for f in reference.field_docs(OPS["conv2d"])}
    assert rows["filters"].type == "int>0"
    assert rows["kernel_size"].type == "int>0 | [int>0, int>0]"
    assert rows["activation"].type == "activation | null"
    assert rows["kernel_regularizer"].type == "regularizer | null"
    assert [f.name for f in reference.field_docs(OPS["conv2d"])][:2] == ["filters", "kernel_size"]
    dropout = {f.name: f for f in reference.field_docs(OPS["dropout"])}
    assert dropout["rate"].type == "float>=0,<1"


@pytest.mark.parametrize("kind", [k for k in OPS if k != "input"])
def test_the_example_is_a_valid_layer(kind: str) -> None:
    """The example entry, with its placeholders filled in, loads as a layer."""
    samples = {"<int>": "2", "<float>": "0.5", "<activation>": "relu", "<list[int]>": "[-1]"}
    entry = reference.example(kind, reference.field_docs(OPS[kind]))
    entry = entry.replace("permute: {dims: <list[int]>}", "permute: {dims: [2, 1, 3]}")
    for placeholder, value in samples.items():
        entry = entry.replace(placeholder, value)
    entry = entry.replace("<layer>, <layer>", "a, b")
    prefix = ""
    if OPS[kind].min_inputs > 1:  # two branches to merge
        prefix = "  - relu: {}\n    name: a\n  - relu: {}\n    name: b\n    inputs: [input]\n"
    shape = "[8, 4]" if kind == "conv1d" else "[8, 8, 4]"
    text = f"archspec: 1\nname: t\ninput: {{shape: {shape}}}\nlayers:\n{prefix}  {entry}\n"
    assert load(text).nodes[-1].kind == kind


def test_unknown_op_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["ops", "conv2"], capsys)
    assert (code, out) == (2, "")
    assert "unknown op 'conv2'" in err and "did you mean 'conv2d'?" in err
    code, _, err = run(["ops", "zzzz"], capsys)
    assert code == 2 and "archspec ops" in err


SPEC = """archspec: 1
name: typos
params: {width: 8}
input: {shape: [16, 16, 3]}
blocks:
  unit:
    args: {filters: int}
    layers:
      - conv2d: {filters: $filters, kernel_size: 3}
layers:
  - {layer}
"""


@pytest.mark.parametrize(
    ("layer", "hint"),
    [
        ("conv2: {filters: 8, kernel_size: 3}", "did you mean 'conv2d'?"),
        ("conv2d: {filter: 8, kernel_size: 3}", "did you mean 'filters'?"),
        ("max_pool2d: {pool_size: 2, paddin: same}", "did you mean 'padding'?"),
        ("batch_norm: {epsilom: 0.1}", "did you mean 'epsilon'?"),
        (
            "dense: {units: 2, kernel_initializer: {name: random_normal, stdev: 1.0}}",
            "did you mean 'stddev'?",
        ),
        ("unt: {filters: 4}", "did you mean 'unit'?"),
        ("unit: {filtres: 4}", "did you mean 'filters'?"),
        ("conv2d: {filters: $widht, kernel_size: 3}", "did you mean 'width'?"),
    ],
)
def test_spec_misspellings_get_a_hint(layer: str, hint: str, tmp_path: Path) -> None:
    path = tmp_path / "typos.yaml"
    path.write_text(SPEC.replace("{layer}", layer), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load(path)
    assert any(hint in d.format() for d in caught.value.diagnostics), caught.value
