"""Every class of spec error is refused before any framework, located at the right line."""

from __future__ import annotations

import re
import textwrap

import pytest

from archspec.cli import main

HEADER = """\
archspec: 1
name: bad
params: {n: 4}
input: {shape: [8, 8, 3]}
"""

# (layers section, expected line, message fragment, spec path fragment). Line numbers count the
# 4 header lines, then "layers:" on line 5.
CASES = [
    (
        "  - conv2d: {filters: 4, kernel_size: 501}\n",
        6,
        "kernel 501 > input 8",
        "layers[0].conv2d.kernel_size",
    ),
    ("  - conv2d: {filters: 0, kernel_size: 3}\n", 6, "greater than 0", "layers[0].conv2d.filters"),
    (
        "  - conv2d: {filters: -2, kernel_size: 3}\n",
        6,
        "greater than 0",
        "layers[0].conv2d.filters",
    ),
    ("  - max_pool2d: {pool_size: 9}\n", 6, "pool 9 > input 8", "layers[0].max_pool2d.pool_size"),
    ("  - conv2d: {filters: 4, kernel_size: 3}\n  - dense: {units: 3}\n", 7, "flat", "layers[1]"),
    (
        "  - conv2d: {filters: 4, kernel_size: 1}\n    name: a\n"
        "  - conv2d: {filters: 5, kernel_size: 1}\n    name: b\n    inputs: [input]\n"
        "  - add: {}\n    inputs: [a, b]\n",
        11,
        "shapes that broadcast",
        "layers[2]",
    ),
    (
        "  - max_pool2d: {}\n    name: p\n  - concatenate: {}\n    inputs: [input, p]\n",
        8,
        "other axes equal",
        "layers[1].concatenate",
    ),
    (
        "  - dense: {units: 2}\n    name: a\n    inputs: [b]\n"
        "  - dense: {units: 2}\n    name: b\n    inputs: [a]\n",
        6,
        "cycle",
        "layers[0]",
    ),
    (
        "  - flatten: {}\n  - dense: {units: 2}\n    inputs: [nowhere]\n",
        8,
        "unknown input 'nowhere'",
        "inputs[0]",
    ),
    ("  - dense: {units: $m}\n", 6, "undefined param or argument '$m'", "layers[0].dense.units"),
    ("  - conv_block: {filters: 2}\n", 6, "unknown op or block 'conv_block'", "layers[0]"),
    ("  - conv2x: {filters: 2}\n", 6, "did you mean 'conv2d'", "layers[0]"),
    (
        "  - conv2d: {filter: 2, kernel_size: 3}\n",
        6,
        "did you mean 'filters'",
        "layers[0].conv2d.filter",
    ),
    ("  - conv2d: {kernel_size: 3}\n", 6, "missing required field 'filters'", "layers[0].conv2d"),
    (
        "  - flatten: {}\n    name: same\n  - dense: {units: 2}\n    name: same\n",
        9,
        "duplicate name 'same'",
        "layers[1]",
    ),
    ("  - dropout: {rate: 1.5}\n", 6, "less than 1", "layers[0].dropout.rate"),
]


def run_check(path, *extra: str) -> int:
    return main(["check", str(path), *extra])


@pytest.mark.parametrize(("layers", "line", "message", "path"), CASES)
def test_error_is_located(spec_file, capsys, layers, line, message, path) -> None:
    file = spec_file(HEADER + "layers:\n" + layers)
    assert run_check(file) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    first = next((line for line in lines if message in line), lines[0])
    match = re.match(r"^(.+):(\d+):(\d+): error: (.+)$", first)
    assert match, first
    assert match.group(1) == str(file)
    assert int(match.group(2)) == line, first
    assert message in first
    assert path in first


def test_unknown_block_argument_and_recursion(spec_file, capsys) -> None:
    text = HEADER + textwrap.dedent(
        """\
        blocks:
          loop:
            layers:
              - loop: {}
          pair:
            args: {units: int}
            layers:
              - dense: {units: $units}
        layers:
          - flatten: {}
          - pair: {unit: 3}
          - loop: {}
        """
    )
    assert run_check(spec_file(text)) == 2
    err = capsys.readouterr().err
    assert re.search(
        r":15:\d+: error: .*block 'pair' has no argument 'unit'.*did you mean 'units'", err
    )
    assert re.search(r":8:\d+: error: .*recursive block 'loop' \(loop -> loop\)", err)


def test_override_errors_point_at_the_param(spec_file, capsys) -> None:
    file = spec_file(HEADER + "layers:\n  - flatten: {}\n")
    assert run_check(file, "--set", "n=wide") == 2
    assert re.search(
        r":3:\d+: error: params.n: override n='wide': must be int", capsys.readouterr().err
    )
    assert run_check(file, "--set", "k=1") == 2
    assert "no such param" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty spec"),
        ("- just\n- a list\n", "must be a mapping"),
        ("archspec: 1\nname: [unclosed\n", "invalid YAML"),
        ("archspec: 2\nname: x\ninput: {shape: [2]}\nlayers: [{flatten: {}}]\n", "archspec"),
        (
            "archspec: 1\nname: x\ninput: {shape: [2]}\nlayers: [{flatten: {}}]\nextra: 1\n",
            "unknown field 'extra'",
        ),
        ("archspec: 1\nname: !!python/object:os.system x\n", "not allowed"),
    ],
)
def test_malformed_documents(spec_file, capsys, text, message) -> None:
    assert run_check(spec_file(text)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_all_problems_are_reported_at_once(spec_file, capsys) -> None:
    text = HEADER + "layers:\n  - conv2d: {filters: 0, kernel_size: 3}\n  - dense: {unitz: 3}\n"
    assert run_check(spec_file(text)) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3, lines
    assert ":6:" in lines[0] and "filters" in lines[0]
    assert all(":7:" in line for line in lines[1:])
    assert any("unknown field 'unitz'" in line and "did you mean 'units'" in line for line in lines)
    assert any("missing required field 'units'" in line for line in lines)


@pytest.mark.parametrize(
    ("layers", "line", "expected"),
    [
        ("  - relu: {}\n    nme: x\n", 7, "unknown key 'nme' (did you mean 'name'?)"),
        ("  - relu: {}\n    repat: 2\n", 7, "unknown key 'repat' (did you mean 'repeat'?)"),
        ("  - relu: {name: x}\n", 6, "'name' goes beside the op key, not inside its fields"),
        ("  - max_pool2d: {padding: sme}\n", 6, "did you mean 'same'?"),
        ("  - relu: {}\n  - dense: {units: 2, activation: rlu}\n", 7, "did you mean 'relu'?"),
    ],
)
def test_misspellings_get_a_suggestion(spec_file, capsys, layers, line, expected) -> None:
    assert run_check(spec_file(HEADER + "layers:\n" + layers)) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert f":{line}:" in err


def test_misspelt_block_section_gets_a_suggestion(spec_file, capsys) -> None:
    text = (
        HEADER
        + "blocks:\n  b:\n    arg: {u: int}\n    layers: [{flatten: {}}]\nlayers:\n  - b: {}\n"
    )
    assert run_check(spec_file(text)) == 2
    err = capsys.readouterr().err
    assert ":7:5: error: blocks.b.arg: unknown field 'arg' (did you mean 'args'?)" in err
