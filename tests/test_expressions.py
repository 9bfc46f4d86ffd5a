"""Expressions in spec values: Python's arithmetic, safely, with located errors."""

from __future__ import annotations

import math
import operator
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

import archspec
from archspec.diagnostics import SpecError
from archspec.frontend.expression_functions import make_divisible
from archspec.frontend.expressions import ExpressionError, evaluate, is_expression
from archspec.limits import MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH

ENV = {"w": 32, "width": 32, "a": 0.75, "h": 225, "t": True, "s": "same", "l": [1, 2]}


def value(text: str) -> object:
    return evaluate(text, ENV.__getitem__, lambda: list(ENV))


def error(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        value(text)
    return info.value


CASES = [
    ("$w * 2", 64),
    ("-$w // 5", -7),  # floor division, as Python
    ("-7 % 3", 2),
    ("7 / 2", 3.5),
    ("8 / 2", 4.0),  # / always gives a float
    ("2 + 3 * 4 - (1 + 1)", 12),
    ("max(1, $w // 4)", 8),
    ("min($w, 3, 9)", 3),
    ("round(2.5)", 2),  # half to even, as Python
    ("round(3.5)", 4),
    ("round(2.567, 2)", 2.57),
    ("ceil(1.2 * 3)", 4),
    ("floor(-0.5)", -1),
    ("int(-2.7)", -2),
    ("abs(-$w)", 32),
    ("sqrt(16)", 4.0),
    ("make_divisible($w * $a, 8)", 24),
    ("1 if $h % 2 == 0 else 0", 0),
    ("1 if $h % 2 == 1 else 0", 1),
    ("1 < $w <= 32", True),
    ("not $t or $w > 100", False),
    ("$t and $w != 3", True),
    ("true == $t", True),
    ("1e-3 * 1000", 1.0),
    (".5 + 1.", 1.5),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_values_and_types_follow_python(text: str, expected: object) -> None:
    found = value(text)
    assert found == expected
    assert type(found) is type(expected)


@given(
    st.integers(-(10**6), 10**6),
    st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from(["+", "-", "*", "/", "//", "%"]),
)
def test_arithmetic_is_pythons(left: int, right: float, symbol: str) -> None:
    python = {
        "+": operator.add,
        "-": operator.sub,
        "*": operator.mul,
        "/": operator.truediv,
        "//": operator.floordiv,
        "%": operator.mod,
    }[symbol]
    env = {"x": left, "y": right}
    text = f"$x {symbol} $y"
    if symbol in ("/", "//", "%") and right == 0:
        with pytest.raises(ExpressionError, match="division by zero"):
            evaluate(text, env.__getitem__)
        return
    expected = python(left, right)
    if not math.isfinite(expected):  # x / 1e-310: refused, never a spec value
        with pytest.raises(ExpressionError, match="not a finite number"):
            evaluate(text, env.__getitem__)
        return
    found = evaluate(text, env.__getitem__)
    assert type(found) is type(expected)
    assert found == expected or (math.isnan(found) and math.isnan(expected))


# torchvision's _make_divisible / Keras's MobileNet _make_divisible, worked by hand from
# max(divisor, int(v + divisor / 2) // divisor * divisor), plus divisor when that falls >10% short.
@pytest.mark.parametrize(
    ("args", "expected"),
    [((32 * 0.35, 8), 16), ((24, 8), 24), ((91, 8), 88), ((3, 8), 8), ((10, 8), 16),
     ((576 * 0.25, 8), 144), ((17, 16, 4), 16), ((68, 16), 64), ((67, 16), 64)],
)  # fmt: skip
def test_make_divisible_is_the_keras_and_torchvision_rule(args: tuple, expected: int) -> None:
    assert make_divisible(*args) == expected
    text = "make_divisible(" + ", ".join(map(repr, args)) + ")"
    assert evaluate(text, {}.__getitem__) == expected


@pytest.mark.parametrize(
    ("text", "offset", "message", "hint"),
    [
        ("$w / 0", 3, "division by zero", ""),
        ("$w % (2 - 2)", 3, "division by zero", ""),
        ("$widht + 1", 0, "undefined param or argument '$widht'", "did you mean 'width'?"),
        ("mak_divisible($w, 8)", 0, "unknown function 'mak_divisible'", "make_divisible"),
        ("$w +", 4, "expected a value, found the end", ""),
        ("$w $w", 3, "after a complete expression", "operator"),
        ("$w @ 2", 3, "unexpected character '@'", ""),
        ("$s * 2", 0, "is a string ('same')", ""),
        ("$l * 2", 0, "is a list", ""),
        ("$t + 1", 3, "needs numbers, got a boolean", ""),
        ("1 if $w else 2", 5, "needs a boolean", "compare it"),
        ("1 if $w > 2", 11, "expected 'else'", ""),
        ("max($w)", 0, "max() takes at least 2 arguments, got 1", ""),
        ("round(2.5, 1.0)", 11, "must be an int", ""),
        ("make_divisible($w, 0)", 19, "positive divisor", ""),
        ("sqrt(-1)", 5, "negative", ""),
        ("max(1", 5, "expected ')' or ','", "quote it"),
        ("w * 2", 0, "'w' is not a value", "a param is written $w"),
        ("conv_$w", 0, "'conv_' is not a value", "write ${name}"),
        ("99999999999 * 99999999999 * 99999999999", 26, "more than 30 digits", ""),
        ("1e300 * 1e300", 6, "not a finite number", ""),
        ("1 < $t", 2, "cannot compare int < a boolean", ""),
    ],
)
def test_errors_name_the_token_at_fault(text: str, offset: int, message: str, hint: str) -> None:
    found = error(text)
    assert message in found.message
    assert found.offset == offset
    assert hint in found.hint


def test_undefined_names_are_found_even_in_the_branch_not_taken() -> None:
    assert "'$nope'" in error("1 if $w > 0 else $nope").message


def test_work_is_bounded() -> None:
    assert "longer than" in error("1 + " * MAX_EXPRESSION_LENGTH + "1").message
    deep = "(" * (MAX_EXPRESSION_DEPTH + 1) + "1" + ")" * (MAX_EXPRESSION_DEPTH + 1)
    assert "nests deeper" in error(deep).message
    assert "nests deeper" in error("-" * (MAX_EXPRESSION_DEPTH + 1) + "1").message
    assert value("(" * 10 + "$w" + ")" * 10) == 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [("$w * 2", True), ("max(1, 2)", True), ("same", False), ("$w", True), ("${w}_x", False),
     ("$$w", False), ("$n\n", False), ("relu(x)", False)],
)  # fmt: skip
def test_what_counts_as_an_expression(text: str, expected: bool) -> None:
    assert is_expression(text) == expected


def spec(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


WIDTHS = spec(
    """
    archspec: 1
    name: widths
    params:
      size: 33
      width: 32
      alpha: 0.75
      c: make_divisible($width * $alpha, 8)
      half: $c // 2
    input: {shape: [$size, $size, 3]}
    blocks:
      unit:
        args: {filters: int, mid: "max(1, $filters // 4)"}
        layers:
          - conv2d: {filters: $mid, kernel_size: 1}
          - conv2d: {filters: $filters, kernel_size: 3, padding: 1 if $size % 2 == 0 else 0}
    layers:
      - conv2d:
          filters: $width * 2
          kernel_size: 3
      - unit: {filters: $c}
        repeat: ceil($alpha * 2)
      - conv2d: {filters: $half, kernel_size: 1}
    """
)


def test_expressions_in_params_block_args_fields_and_repeats() -> None:
    report = archspec.check(WIDTHS)
    filters = [layer.node.op.filters for layer in report.layers[1:]]
    # c = make_divisible(24.0, 8) = 24, mid = 6, repeat = ceil(1.5) = 2, half = 12
    assert filters == [64, 6, 24, 6, 24, 12]
    assert report.layers[3].node.op.padding == 0  # 33 is odd
    assert report.graph.params["c"] == 24


def test_overrides_feed_the_params_computed_from_them() -> None:
    report = archspec.check(archspec.load(WIDTHS, width=64, size=32))
    filters = [layer.node.op.filters for layer in report.layers[1:]]
    assert filters == [128, 12, 48, 12, 48, 24]
    assert report.layers[3].node.op.padding == 1
    # A computed param can itself be overridden, and keeps its computed type.
    assert archspec.load(WIDTHS, c=40).params["half"] == 20
    with pytest.raises(SpecError, match=r"override c=1\.5: must be int"):
        archspec.load(WIDTHS, c=1.5)


def test_a_float_where_an_int_is_needed_is_a_located_error() -> None:
    text = WIDTHS.replace("filters: $width * 2", "filters: $width * $alpha")
    with pytest.raises(SpecError) as info:
        archspec.check(text)
    (problem,) = info.value.diagnostics
    assert problem.location.line == 18 and problem.path == "layers[0].conv2d.filters"
    assert "24.0" in problem.message and "use // or round()" in problem.hint


def test_errors_point_at_the_column_of_the_token() -> None:
    text = WIDTHS.replace("filters: $width * 2", "filters: $width // ($c - 24)")
    with pytest.raises(SpecError) as info:
        archspec.check(text)
    (problem,) = info.value.diagnostics
    line = text.splitlines()[problem.location.line - 1]
    assert line[problem.location.col - 1 :].startswith("// ($c")
    assert "division by zero" in problem.message and "column 8" in problem.message
    quoted = WIDTHS.replace('"max(1, $filters // 4)"', '"max(1, $filters / 0)"')
    with pytest.raises(SpecError) as info:
        archspec.check(quoted)
    (problem,) = info.value.diagnostics
    line = quoted.splitlines()[problem.location.line - 1]
    assert line[problem.location.col - 1 :].startswith("/ 0)")


@given(st.text(alphabet="$wat0123456789.eE+-*/%()<>=! ,_ifelsnotrudmxabcvq", max_size=40))
def test_any_text_gives_a_value_or_a_located_error(text: str) -> None:
    """Never a crash, never an unbounded result: a number or boolean, or ExpressionError at an
    offset inside the text."""
    try:
        found = value(text)
    except ExpressionError as err:
        assert 0 <= err.offset <= len(text)
        return
    assert isinstance(found, bool | int | float)
    assert not isinstance(found, float) or math.isfinite(found)


def test_generated_code_keeps_only_params_that_stay_exact() -> None:
    """``c2: $c * 2`` is written in as its value: a ``build_model(c=...)`` argument that did not
    move ``c2`` would lie."""
    text = spec(
        """
        archspec: 1
        name: computed
        params: {c: 16, c2: $c * 2, n_classes: 10}
        input: {shape: [8, 8, 3]}
        layers:
          - conv2d: {filters: $c2, kernel_size: 1}
          - global_avg_pool2d: {}
          - dense: {units: $n_classes}
        """
    )
    source = archspec.generate(text, backend="keras")
    assert "def build_model(n_classes=10):" in source
    assert "filters=32" in source


@pytest.mark.parametrize("topic", ["expressions", "blocks", "outputs"])
def test_archspec_ops_explains_the_language(topic: str, capsys: pytest.CaptureFixture[str]) -> None:
    from archspec.cli import main
    from archspec.frontend.expression_functions import FUNCTIONS

    assert main(["ops", topic]) == 0
    out = capsys.readouterr().out
    assert "Errors" in out
    if topic == "expressions":
        assert all(f"  {name} " in out for name in FUNCTIONS)
    assert main(["ops"]) == 0
    assert "archspec ops expressions|blocks|outputs" in capsys.readouterr().out


def test_a_param_may_only_use_the_params_before_it() -> None:
    text = WIDTHS.replace("  half: $c // 2\n", "").replace(
        "  size: 33\n", "  half: $c // 2\n  size: 33\n"
    )
    with pytest.raises(SpecError) as info:
        archspec.check(text)
    (problem,) = info.value.diagnostics
    assert problem.path == "params.half" and "'$c'" in problem.message
    assert "'c' is defined after this one" in problem.hint
