"""`archspec init NAME`: a starter spec that checks and that editors complete anywhere.

The spec's `# yaml-language-server: $schema=` line must name a schema that exists for that
file (written beside it), with an `$id`, equal to what `archspec schema` prints, and the
starter must validate against it and check.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import archspec
from archspec.cli import main
from archspec.frontend.schema import SCHEMA_ID, schema_text
from archspec.frontend.source import parse_yaml, to_python

SCHEMA_LINE = "# yaml-language-server: $schema="


def test_init_writes_a_spec_whose_schema_line_resolves(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert main(["init", str(folder / "tiny")]) == 0
    spec = folder / "tiny.yaml"
    first = spec.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(SCHEMA_LINE)
    schema_path = spec.parent / first.removeprefix(SCHEMA_LINE)  # relative to the spec
    assert schema_path.is_file()
    text = schema_path.read_text(encoding="utf-8")
    assert text == schema_text()
    schema = json.loads(text)
    assert schema["$id"] == SCHEMA_ID
    validator = jsonschema.Draft202012Validator(schema)
    data = to_python(parse_yaml(spec.read_text(encoding="utf-8"), str(spec)))
    assert list(validator.iter_errors(data)) == []
    report = archspec.check(archspec.load(spec))
    assert report.name == "tiny" and report.output_shape == (10,)


def test_init_refuses_to_overwrite_or_to_misname(tmp_path: Path, capsys) -> None:
    assert main(["init", str(tmp_path / "net")]) == 0
    before = (tmp_path / "net.yaml").read_text(encoding="utf-8")
    (tmp_path / "net.yaml").write_text(before + "# mine\n", encoding="utf-8")
    assert main(["init", str(tmp_path / "net")]) == 2
    assert "exists" in capsys.readouterr().err
    assert (tmp_path / "net.yaml").read_text(encoding="utf-8").endswith("# mine\n")
    assert main(["init", str(tmp_path / "net"), "--force"]) == 0
    assert (tmp_path / "net.yaml").read_text(encoding="utf-8") == before
    assert main(["init", str(tmp_path / "class")]) == 2  # a Python keyword
    assert main(["init", str(tmp_path / "no_dir" / "net")]) == 2
    assert not (tmp_path / "class.yaml").exists()


@pytest.mark.parametrize("name", ["a", "resnet_like2"])
def test_the_starter_names_the_network(name: str) -> None:
    from archspec.cli.init import starter

    graph = archspec.load(starter(name))
    assert graph.name == name
