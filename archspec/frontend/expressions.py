"""Safe arithmetic in spec values: ``$width * 2``, ``make_divisible($c * $alpha, 8)``.

A value is an expression when it mentions a param with a bare ``$name`` (``${name}`` stays
string interpolation) or starts with a call of one of ``FUNCTIONS``. It is parsed by the small
grammar of ``expression_parser.py`` (nothing reaches ``eval``) and evaluated here over ints,
floats and bools with Python's semantics: ``/`` gives a float, ``//`` and ``%`` floor, ``and``
and ``or`` short-circuit, comparisons chain. Booleans are not numbers here (``true + 1`` is an
error), and every intermediate integer is bounded (``archspec/limits.py``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from archspec.diagnostics import did_you_mean
from archspec.frontend.expression_functions import FUNCTIONS, ArgumentError, Number
from archspec.frontend.expression_parser import ExpressionError, Tree, checked, parse, references

__all__ = ["ExpressionError", "evaluate", "is_expression", "parse"]

Lookup = Callable[[str], Any]  # a param's value; raises KeyError when it is not defined
_REF_RE = re.compile(r"(?<!\$)\$[A-Za-z_]")
_CALL_RE = re.compile(r"^\s*(" + "|".join(FUNCTIONS) + r")\s*\(")
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def is_expression(text: str) -> bool:
    """Whether a string value is an expression (a bare ``$name``, or a leading function call)."""
    if "\n" in text or "\r" in text:  # one line: "$n\n" stays a string, as it was
        return False
    return bool(_REF_RE.search(text) or _CALL_RE.match(text))


def evaluate(text: str, lookup: Lookup, names: Callable[[], list[str]] = list) -> Number:
    """The value of an expression, with Python's semantics (``/`` gives a float, ``//`` and
    ``%`` floor). Raises ExpressionError located at the token at fault."""
    tree = parse(text)
    values: dict[str, Number] = {}
    for name, offset in references(tree):
        if name in values:
            continue
        try:
            value = lookup(name)
        except KeyError:
            hint = did_you_mean(name, names())
            raise ExpressionError(f"undefined param or argument '${name}'", offset, hint) from None
        if isinstance(value, bool | int | float):
            values[name] = value
        else:
            kind = {list: "a list", dict: "a mapping", str: "a string"}.get(
                type(value), "not a number"
            )
            shown = f" ({value!r})" if isinstance(value, str) else ""
            raise ExpressionError(
                f"'${name}' is {kind}{shown}; expressions compute with numbers and booleans", offset
            )
    return _Evaluator(values).run(tree)


class _Evaluator:
    def __init__(self, values: dict[str, Number]) -> None:
        self.values = values

    def run(self, tree: Tree) -> Number:
        return getattr(self, "eval_" + tree[0])(tree)

    def eval_const(self, tree: Tree) -> Number:
        return tree[2]

    def eval_ref(self, tree: Tree) -> Number:
        return self.values[tree[2]]

    def eval_if(self, tree: Tree) -> Number:
        _, _, condition, then, otherwise = tree
        chosen = _boolean(self.run(condition), "the condition of 'if'", condition[1])
        return self.run(then if chosen else otherwise)

    def eval_logic(self, tree: Tree) -> Number:
        _, offset, word, left, right = tree
        first = _boolean(self.run(left), f"'{word}'", offset)
        if first == (word == "or"):  # short-circuit, as Python
            return first
        return _boolean(self.run(right), f"'{word}'", offset)

    def eval_not(self, tree: Tree) -> Number:
        return not _boolean(self.run(tree[2]), "'not'", tree[1])

    def eval_compare(self, tree: Tree) -> Number:
        left = self.run(tree[2])
        for symbol, offset, operand in tree[3]:
            right = self.run(operand)
            if isinstance(left, bool) != isinstance(right, bool) and symbol not in ("==", "!="):
                raise ExpressionError(
                    f"cannot compare {_kind(left)} {symbol} {_kind(right)}", offset
                )
            if not _COMPARE[symbol](left, right):
                return False
            left = right
        return True

    def eval_binary(self, tree: Tree) -> Number:
        _, offset, symbol, left_tree, right_tree = tree
        left, right = self.run(left_tree), self.run(right_tree)
        for value in (left, right):
            if isinstance(value, bool):
                raise ExpressionError(f"'{symbol}' needs numbers, got a boolean ({value})", offset)
        if symbol in ("/", "//", "%") and right == 0:
            raise ExpressionError(f"division by zero in '{symbol}'", offset)
        return checked(_ARITHMETIC[symbol](left, right), offset)

    def eval_unary(self, tree: Tree) -> Number:
        value = self.run(tree[3])
        if isinstance(value, bool):
            raise ExpressionError(f"'{tree[2]}' needs a number, got a boolean ({value})", tree[1])
        return -value if tree[2] == "-" else value

    def eval_call(self, tree: Tree) -> Number:
        _, offset, name, arg_trees = tree
        function = FUNCTIONS[name]
        args = [self.run(arg) for arg in arg_trees]
        for position, value in enumerate(args):
            if isinstance(value, bool):
                raise ExpressionError(
                    f"{name}() needs numbers, got a boolean ({value})", arg_trees[position][1]
                )
            if position in function.int_args and not isinstance(value, int):
                raise ExpressionError(
                    f"argument {position + 1} of {name}() must be an int, got {value!r}",
                    arg_trees[position][1],
                )
        try:
            result = function.rule(*args)
        except ArgumentError as err:
            raise ExpressionError(err.message, arg_trees[err.position][1]) from None
        return checked(result, offset)


def _boolean(value: Number, what: str, offset: int) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(
            f"{what} needs a boolean (a comparison), got {value!r}",
            offset,
            "compare it, e.g. $x > 0",
        )
    return value


def _kind(value: Number) -> str:
    return "a boolean" if isinstance(value, bool) else type(value).__name__
