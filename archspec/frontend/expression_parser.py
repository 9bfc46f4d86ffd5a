"""The expression grammar: a tokenizer and a recursive-descent parser, no ``eval``.

Grammar, loosest first (Python's precedence)::

    expr   := or ['if' or 'else' expr]          # Python's conditional value
    or     := and {'or' and}
    and    := not {'and' not}
    not    := 'not' not | cmp
    cmp    := sum {('==' | '!=' | '<' | '<=' | '>' | '>=') sum}   # chained as in Python
    sum    := term {('+' | '-') term}
    term   := unary {('*' | '/' | '//' | '%') unary}
    unary  := ('-' | '+') unary | atom
    atom   := NUMBER | '$'NAME | 'true' | 'false' | NAME '(' expr {',' expr} ')' | '(' expr ')'

Work is bounded: the text length and the nesting depth (``archspec/limits.py``). The tree is
plain tuples ``(kind, offset, ...)``; offsets index the text, for located errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archspec.diagnostics import did_you_mean
from archspec.frontend.expression_functions import FUNCTIONS, Number
from archspec.limits import MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH, MAX_INT_DIGITS

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class ExpressionError(Exception):
    """A problem at ``offset`` (0-based, a character of the expression text)."""

    def __init__(self, message: str, offset: int, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.offset, self.hint = message, offset, hint


KEYWORDS = ("true", "false", "if", "else", "and", "or", "not")
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<ref>\$[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>//|==|!=|<=|>=|[-+*/%<>(),])|(?P<bad>\S))"
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, ref, name, op, end
    text: str
    offset: int


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; an unexpected character is an error at its offset."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"expression longer than {MAX_EXPRESSION_LENGTH} characters; refusing it", 0
        )
    tokens: list[Token] = []
    position = 0
    while text[position:].strip():
        match = _TOKEN_RE.match(text, position)
        kind = match.lastgroup  # type: ignore[union-attr]
        offset = match.start(kind)  # type: ignore[union-attr,arg-type]
        value = match.group(kind)  # type: ignore[union-attr,arg-type]
        if kind == "bad":
            hint = "a param is written $name" if value == "$" else ""
            raise ExpressionError(f"unexpected character {value!r}", offset, hint)
        tokens.append(Token(kind, value, offset))  # type: ignore[arg-type]
        position = match.end()  # type: ignore[union-attr]
    tokens.append(Token("end", "", len(text.rstrip())))
    return tokens


# The syntax tree: plain tuples (kind, offset, ...), built once per value.
Tree = tuple[Any, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self, *texts: str) -> Token | None:
        token = self.token
        if token.kind in ("op", "name") and token.text in texts:
            self.index += 1
            return token
        return None

    def expect(self, text: str, what: str) -> Token:
        token = self.take(text)
        if token is None:
            hint = ""
            if self.token.kind == "end" and text == ")":
                hint = "in YAML's flow style ({...} or [...]) a comma ends the value: quote it"
            raise ExpressionError(
                f"expected {what}, found {_describe(self.token)}", self.token.offset, hint
            )
        return token

    def parse(self) -> Tree:
        tree = self.expr()
        if self.token.kind != "end":
            raise ExpressionError(
                f"unexpected {_describe(self.token)} after a complete expression",
                self.token.offset,
                "join values with an operator",
            )
        return tree

    def expr(self) -> Tree:
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(
                f"expression nests deeper than {MAX_EXPRESSION_DEPTH} levels", self.token.offset
            )
        value = self.or_()
        if_token = self.take("if")
        if if_token is not None:
            condition = self.or_()
            self.expect("else", "'else' (a conditional value is 'A if CONDITION else B')")
            value = ("if", if_token.offset, condition, value, self.expr())
        self.depth -= 1
        return value

    def or_(self) -> Tree:
        return self._logic("or", self.and_)

    def and_(self) -> Tree:
        return self._logic("and", self.not_)

    def _logic(self, word: str, operand: Callable[[], Tree]) -> Tree:
        tree = operand()
        while (token := self.take(word)) is not None:
            tree = ("logic", token.offset, word, tree, operand())
        return tree

    def not_(self) -> Tree:
        token = self.take("not")
        return ("not", token.offset, self.not_()) if token else self.compare()

    def compare(self) -> Tree:
        first = self.sum()
        chain = []
        while (token := self.take(*COMPARISONS)) is not None:
            chain.append((token.text, token.offset, self.sum()))
        return ("compare", first[1], first, tuple(chain)) if chain else first

    def sum(self) -> Tree:
        return self._binary(("+", "-"), self.term)

    def term(self) -> Tree:
        return self._binary(("*", "/", "//", "%"), self.unary)

    def _binary(self, ops: tuple[str, ...], operand: Callable[[], Tree]) -> Tree:
        tree = operand()
        while (token := self.take(*ops)) is not None:
            tree = ("binary", token.offset, token.text, tree, operand())
        return tree

    def unary(self) -> Tree:
        token = self.take("-", "+")
        if token is None:
            return self.atom()
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(
                f"expression nests deeper than {MAX_EXPRESSION_DEPTH} levels", token.offset
            )
        tree = ("unary", token.offset, token.text, self.unary())
        self.depth -= 1
        return tree

    def atom(self) -> Tree:
        token = self.token
        if token.kind == "number":
            self.index += 1
            return ("const", token.offset, _number(token))
        if token.kind == "ref":
            self.index += 1
            return ("ref", token.offset, token.text[1:])
        if self.take("("):
            tree = self.expr()
            self.expect(")", "')'")
            return tree
        if token.kind == "name" and token.text in ("true", "false"):
            self.index += 1
            return ("const", token.offset, token.text == "true")
        if token.kind == "name" and token.text not in KEYWORDS:
            return self.call(token)
        hint = "a param is written $name" if token.kind == "name" else ""
        raise ExpressionError(f"expected a value, found {_describe(token)}", token.offset, hint)

    def call(self, token: Token) -> Tree:
        self.index += 1
        function = FUNCTIONS.get(token.text)
        if function is None and not (self.token.kind == "op" and self.token.text == "("):
            raise ExpressionError(
                f"'{token.text}' is not a value",
                token.offset,
                f"a param is written ${token.text}; to put a param into text, write ${{name}}",
            )
        if function is None:
            hint = did_you_mean(token.text, FUNCTIONS) or (
                f"a param is written ${token.text}; functions: {', '.join(FUNCTIONS)}"
            )
            raise ExpressionError(f"unknown function '{token.text}'", token.offset, hint)
        self.expect("(", f"'(' after '{token.text}'")
        args = [self.expr()]
        while self.take(","):
            args.append(self.expr())
        self.expect(")", "')' or ','")
        most = function.max_args
        if len(args) < function.min_args or (most is not None and len(args) > most):
            wanted = f"{function.min_args} to {most}" if most != function.min_args else str(most)
            wanted = f"at least {function.min_args}" if most is None else wanted
            raise ExpressionError(
                f"{token.text}() takes {wanted} arguments, got {len(args)}", token.offset
            )
        return ("call", token.offset, token.text, tuple(args))


def _describe(token: Token) -> str:
    return "the end" if token.kind == "end" else f"'{token.text}'"


def _number(token: Token) -> Number:
    if re.fullmatch(r"\d+", token.text):
        if len(token.text) > MAX_INT_DIGITS:
            raise ExpressionError(
                f"integer with {len(token.text)} digits is out of range", token.offset
            )
        return int(token.text)
    return checked(float(token.text), token.offset)


def parse(text: str) -> Tree:
    """The syntax tree of ``text``, or ExpressionError at the offending character."""
    return _Parser(text).parse()


def references(tree: Tree) -> list[tuple[str, int]]:
    """Every ``$name`` in a tree with its offset (checked up front, even in a branch not taken)."""
    found: list[tuple[str, int]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        kind = node[0]
        if kind == "ref":
            found.append((node[2], node[1]))
        elif kind == "if":
            stack.extend(node[2:5])
        elif kind in ("logic", "binary"):
            stack.extend(node[3:5])
        elif kind in ("not", "unary"):
            stack.append(node[-1])
        elif kind == "compare":
            stack.extend([node[2], *(item[2] for item in node[3])])
        elif kind == "call":
            stack.extend(node[3])
    return sorted(found, key=lambda item: item[1])


def checked(value: Number, offset: int) -> Number:
    """Bounded work and plain data: no integer past MAX_INT_DIGITS, no inf or nan."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError("the result is not a finite number", offset)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_INT_DIGITS:
        raise ExpressionError(f"the result has more than {MAX_INT_DIGITS} digits", offset)
    return value
