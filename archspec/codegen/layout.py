"""Generated source laid out as ``ruff format`` lays it out, without running ruff.

Both backends emit code through these rules, so generated modules are deterministic, need no
formatter at generation time, and pass ``ruff format --check`` (the golden tests prove it).
Two views of one rule: ``lines`` lays out a tree of values (``Group``/``Seq``, the Keras
backend's calls), ``wrap``/``layout`` lay out code already written as text (the PyTorch backend's
statements). Either way: one line when it fits; else the bracket's content on one indented line;
else one item per line with a magic trailing comma, which makes ruff keep the bracket exploded.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

LINE_LENGTH = 100
INDENT = "    "


@dataclass(frozen=True)
class Group:
    """A bracketed, comma-separated run of items: arguments, a tuple, a list."""

    open: str
    close: str
    items: tuple[Any, ...]
    one_tuple: bool = False


@dataclass(frozen=True)
class Seq:
    """Parts written one after the other, e.g. ``layers.Dense`` then its arguments."""

    parts: tuple[Any, ...]


def seq(*parts: Any) -> Seq:
    """Parts in a row, nested runs flattened (so the first bracket is found at the top)."""
    flattened: list[Any] = []
    for part in parts:
        flattened += part.parts if isinstance(part, Seq) else [part]
    return Seq(tuple(flattened))


def flat(item: Any) -> str:
    """The one-line text of a node."""
    if isinstance(item, str):
        return item
    if isinstance(item, Seq):
        return "".join(flat(p) for p in item.parts)
    inner = ", ".join(flat(i) for i in item.items)
    return item.open + inner + ("," if item.one_tuple else "") + item.close


def lines(
    item: Any, indent: str, prefix: str = "", suffix: str = "", hug: bool = False
) -> list[str]:
    """``prefix + item + suffix`` at ``indent``, split at the first brackets that need it.

    ``hug`` (for items inside an exploded bracket, where ruff does the same) first tries the
    bracket's whole content on one line of its own.
    """
    text = prefix + flat(item) + suffix
    if len(indent) + len(text) <= LINE_LENGTH or isinstance(item, str):
        return [indent + text]
    if isinstance(item, Group):
        return _explode(item, indent, prefix, suffix, hug)
    parts = list(item.parts)
    first = next((i for i, p in enumerate(parts) if isinstance(p, Group)), None)
    if first is None:
        return [indent + text]
    head = prefix + "".join(flat(p) for p in parts[:first])
    rest = parts[first + 1 :]
    out = _explode(parts[first], indent, head, "" if rest else suffix, hug and not rest)
    if rest:
        closing = out.pop()[len(indent) :]
        out += lines(seq(closing, *rest), indent, "", suffix)
    return out


def _explode(group: Group, indent: str, prefix: str, suffix: str, hug: bool) -> list[str]:
    inner = indent + INDENT
    content = ", ".join(flat(i) for i in group.items) + ("," if group.one_tuple else "")
    if hug and len(inner) + len(content) <= LINE_LENGTH:
        return [indent + prefix + group.open, inner + content, indent + group.close + suffix]
    out = [indent + prefix + group.open]
    for entry in group.items:
        out += lines(entry, inner, "", ",", hug=True)
    out.append(indent + group.close + suffix)
    return out


def wrap(depth: int, head: str, items: list[str], tail: str) -> list[str]:
    """``head`` + comma-separated ``items`` + ``tail`` at indentation ``depth``, ruff-style.

    ``head`` ends with the opening bracket and ``tail`` starts with the closing one.
    """
    pad, inner = INDENT * depth, INDENT * (depth + 1)
    one_line = f"{pad}{head}{', '.join(items)}{tail}"
    if len(one_line) <= LINE_LENGTH or not items:
        return [one_line]
    hugged = inner + ", ".join(items)
    if len(hugged) <= LINE_LENGTH:
        return [pad + head, hugged, pad + tail]
    return [pad + head, *(f"{inner}{item}," for item in items), pad + tail]


def with_comment(depth: int, code: str, comment: str) -> list[str]:
    """A statement with a trailing comment, the comment moved above when the line is too long."""
    line = f"{INDENT * depth}{code}  # {comment}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"{INDENT * depth}# {comment}", f"{INDENT * depth}{code}"]


def docstring(depth: int, text: str) -> list[str]:
    """A docstring statement: escaped, paragraphs kept, lines within the line length."""
    pad = INDENT * depth
    safe = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    single = f'{pad}"""{" ".join(safe.split())}"""'
    if "\n" not in safe and len(single) <= LINE_LENGTH and not safe.endswith('"'):
        return [single]
    width = LINE_LENGTH - len(pad)
    lines: list[str] = []
    for paragraph in safe.split("\n\n"):
        first = not lines
        if lines:
            lines.append("")
        words = " ".join(paragraph.split())
        lines += textwrap.wrap(
            words,
            width,
            initial_indent='"""' if first else "",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
    return [f"{pad}{line}" if line else "" for line in [*lines, '"""']]


def _closing_match(text: str) -> int:
    """Index of the bracket that opens the one ``text`` ends with (-1 when unbalanced)."""
    pairs, depth = {")": "(", "]": "["}, 0
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char in ")]":
            depth += 1
        elif char in "([":
            depth -= 1
            if depth == 0:
                return index if pairs[text[-1]] == char else -1
    return -1


def split_top(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside brackets and strings."""
    parts, depth, start, index, quote = [], 0, 0, 0, ""
    while index < len(text):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index].strip())
            start = index = index + len(separator)
            continue
        index += 1
    return [*parts, text[start:].strip()]


def layout(depth: int, head: str, expr: str, tail: str = "") -> list[str]:
    """``head + expr + tail`` split the way ruff splits an over-long expression statement:
    at the brackets of the last call or list, operands of ``+``/``*`` inside parentheses."""
    pad, inner = INDENT * depth, INDENT * (depth + 1)
    line = f"{pad}{head}{expr}{tail}"
    if len(line) <= LINE_LENGTH:
        return [line]
    for operator in (" + ", " * "):
        operands = split_top(expr, operator)
        if len(operands) > 1 and head.endswith("= "):
            return [f"{pad}{head}(", *layout(depth + 1, "", expr), f"{pad}){tail}"]
        if len(operands) > 1 and not head:  # inside brackets: one operand per line
            rest = [f"{pad}{operator.strip()} {o}" for o in operands[1:]]
            return [pad + operands[0], *rest[:-1], rest[-1] + tail]
    opening = _closing_match(expr) if expr[-1:] in ")]" else -1
    if opening < 0:
        return [line]
    if head.endswith("= ") and len(f"{pad}{head}{expr[: opening + 1]}") > LINE_LENGTH:
        return [f"{pad}{head}(", *layout(depth + 1, "", expr), f"{pad}){tail}"]
    content, closing = expr[opening + 1 : -1], expr[-1]
    items = split_top(content, ",") if content else []
    if len(inner + content) <= LINE_LENGTH or not items:
        body = [inner + content] if content else []
    elif len(items) == 1:
        body = layout(depth + 1, "", items[0])
    else:
        body = [part for item in items for part in layout(depth + 1, "", item, ",")]
    return [f"{pad}{head}{expr[: opening + 1]}", *body, f"{pad}{closing}{tail}"]
