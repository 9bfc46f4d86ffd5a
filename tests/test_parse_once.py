"""The YAML text is read once (frontend/compose.py), with the nesting and alias guards in force."""

from __future__ import annotations

import pytest

from archspec.diagnostics import SpecError
from archspec.frontend import source
from archspec.limits import MAX_YAML_DEPTH
from tests.conftest import SPECS


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text a YAML parser is made for, while the test runs."""
    made: list[str] = []
    base = source._FAST_LOADER

    class Counting(base):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            made.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(source, "_FAST_LOADER", Counting)
    return made


@pytest.mark.parametrize("path", SPECS[:3], ids=lambda p: p.stem)
def test_a_spec_is_parsed_once(parses: list[str], path) -> None:
    source.parse_yaml(path.read_text(encoding="utf-8"), str(path))
    assert len(parses) == 1


@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
def test_deep_nesting_is_refused_at_the_limit_without_recursion(parses, opener: str) -> None:
    text = (
        opener * 200_000
        if opener != "- "
        else "".join(" " * (2 * i) + "-\n" for i in range(MAX_YAML_DEPTH + 5))
    )
    with pytest.raises(SpecError) as caught:
        source.parse_yaml(text, "deep.yaml")
    (problem,) = caught.value.diagnostics
    assert problem.message == f"spec nests deeper than {MAX_YAML_DEPTH} levels"
    assert len(parses) == 1


def test_aliases_are_bounded_and_located_where_used(parses: list[str]) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    with pytest.raises(SpecError, match="alias bomb"):
        source.parse_yaml(bomb, "bomb.yaml")
    with pytest.raises(SpecError, match="recursive YAML alias"):
        source.parse_yaml("a: &a [1, *a]\n", "loop.yaml")
    tree = source.parse_yaml("a: &x {k: 1}\nb: *x\n", "ok.yaml")
    assert tree.items["b"].items["k"].location.line == 2  # type: ignore[attr-defined]
    with pytest.raises(SpecError, match="undefined alias"):
        source.parse_yaml("a: *nowhere\n", "undefined.yaml")
