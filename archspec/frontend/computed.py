"""Expression values in a located spec tree: evaluate one, locate its errors to the column.

The expander calls ``compute`` on every string value that ``is_expression`` accepts; the result
is a located scalar that remembers its expression, so that a later error about the value (a
float where a field needs an int) can say where the number came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from archspec.diagnostics import Diagnostic, Location
from archspec.frontend.expressions import ExpressionError, evaluate, is_expression
from archspec.frontend.source import YMap, YNode, YScalar, YSeq, to_python


@dataclass(eq=False)
class YComputed(YScalar):
    """A scalar computed from an expression (``$width * 2``): its text stays for messages."""

    expression: str = field(default="", kw_only=True)


def compute(node: YScalar, env: Mapping[str, YNode], path: str) -> YScalar | Diagnostic:
    """The value of the expression ``node.value`` over ``env``, or a diagnostic that points at
    the token at fault (its column within the YAML line, and within the expression)."""
    text: str = node.value

    def lookup(name: str) -> object:
        bound = env[name]
        return bound.value if isinstance(bound, YScalar) else to_python(bound)

    try:
        value = evaluate(text, lookup, lambda: list(env))
    except ExpressionError as err:
        message = f"{err.message} (column {err.offset + 1} of '{text}')"
        return Diagnostic(message, _token_location(node, err.offset), path, err.hint)
    return YComputed(node.location, value, expression=text)


def _token_location(node: YScalar, offset: int) -> Location:
    """Where character ``offset`` of a one-line scalar is written (a quote shifts it by one)."""
    where = node.location
    if node.style in (None, "'", '"') and "\n" not in node.value:
        shift = offset + (1 if node.style else 0)
        return Location(where.file, where.line, where.col + shift)
    return where


def computed_from_others(node: YNode) -> bool:
    """Whether a param's written value refers to other params (``$c * 2``, ``[$h, $w, 3]``)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, YScalar):
            text = item.value
            if isinstance(text, str) and ("$" in text or is_expression(text)):
                return True
        elif isinstance(item, YSeq):
            stack.extend(item.items)
        elif isinstance(item, YMap):
            stack.extend(item.items.values())
    return False


def later_param_hint(problem: Diagnostic, params: Mapping[str, object]) -> Diagnostic:
    """An undefined ``$name`` that is a param written further down: say that order matters."""
    match = re.search(r"undefined param or argument '\$(\w+)'", problem.message)
    if match and match.group(1) in params:
        hint = f"params are bound in order: '{match.group(1)}' is defined after this one"
        return replace(problem, hint=hint)
    return problem


def float_for_int_hint(node: YNode, given: object) -> str:
    """A hint for a computed float given where an int is needed."""
    if isinstance(node, YComputed) and isinstance(given, float):
        return f"'{node.expression}' gives a float; use // or round() for an int"
    return ""
