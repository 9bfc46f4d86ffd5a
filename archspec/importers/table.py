"""THE import table: one entry per source construct (a Keras layer class, an ONNX op, a torch
module type or function) -> the archspec op it becomes, with its meaning.

Each source's mapping module (``keras_map``, ``torch_map``, ``onnx_map``) registers its entries
with ``@mapping(...)``, the way backends register lowering rows; a reader looks its construct up
here and nowhere else. A construct without an entry is refused by name, never approximated.
``archspec import --list-supported`` prints this table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SOURCES = {
    "keras": ("archspec.importers.keras_map",),
    "torch": ("archspec.importers.torch_map", "archspec.importers.torch_tokens"),
    "onnx": ("archspec.importers.onnx_map",),
}


@dataclass(frozen=True)
class Mapping:
    """One source construct: what it becomes (``ops``, for the coverage list) and how."""

    source: str
    name: str
    ops: str
    meaning: str
    convert: Callable[..., Any]


TABLE: dict[tuple[str, str], Mapping] = {}


def mapping(
    source: str, *names: str, ops: str | dict[str, str], meaning: str
) -> Callable[[Callable], Callable]:
    """Register ``convert`` for each construct name of ``source``.

    ``ops`` names what each construct becomes: one text for all, a dict per name, or as many
    comma-separated ops as names (``"Add", "Multiply"`` -> ``"add, multiply"``).
    """
    listed = ops.split(", ") if isinstance(ops, str) else []
    per_name = dict(ops) if isinstance(ops, dict) else {}
    if len(names) > 1 and len(listed) == len(names):
        per_name = dict(zip(names, listed, strict=True))

    def register(convert: Callable) -> Callable:
        for name in names:
            text = per_name.get(name, ops if isinstance(ops, str) else "")
            TABLE[(source, name)] = Mapping(source, name, text, meaning, convert)
        return convert

    return register


def lookup(source: str, name: str) -> Mapping | None:
    """The entry for a construct, its source's mapping module loaded on first use."""
    for module in SOURCES[source]:
        importlib.import_module(module)
    return TABLE.get((source, name))


def supported() -> list[Mapping]:
    """Every entry of every source, sorted by source and name (no framework is imported)."""
    for modules in SOURCES.values():
        for module in modules:
            importlib.import_module(module)
    return sorted(TABLE.values(), key=lambda m: (m.source, m.name.lower()))


def coverage_table() -> str:
    """The entries as text: source, construct, archspec op, meaning."""
    rows = [(m.source, m.name, m.ops, m.meaning) for m in supported()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{len(rows)} constructs map onto archspec ops:"]
    for source, name, ops, meaning in rows:
        lines.append(
            f"  {source.ljust(widths[0])}  {name.ljust(widths[1])}  {ops.ljust(widths[2])}  {meaning}"
        )
    return "\n".join(lines)
