"""Lay calls out as ruff format would: one line when it fits, else exploded with trailing commas.

A magic trailing comma makes ruff keep a bracket exploded, one item per line, so the layout
below is ruff-stable without running ruff: generated code stays deterministic and
dependency-free, and the tests run ``ruff format --check`` on it to prove the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspec.backends.keras.calls import Call, Ref
from archspec.codegen.common import pyrepr

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


def node(value: Any) -> Any:
    """A value (literal, ``Ref``, ``Call``) as a layout node."""
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, Call):
        items = [node(a) for a in value.args]
        items += [seq(f"{key}=", node(v)) for key, v in value.kwargs]
        if value.name is not None:
            items.append(seq("name=", pyrepr(value.name)))
        return seq(value.func, Group("(", ")", tuple(items)))
    if isinstance(value, list | tuple):
        return Group("(", ")", tuple(node(v) for v in value), one_tuple=len(value) == 1)
    return pyrepr(value)


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
