"""The op reference (``archspec ops``), generated from the op table so it cannot drift.

Without an argument it lists every op by family with its fields, types and defaults; with one it
shows that op in full: its docstring, how many inputs it takes, each field's description and an
example entry. Types are read from the pydantic JSON Schema of each op, the same schema the
loader validates with and ``archspec schema`` publishes.
"""

from __future__ import annotations

import inspect
import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any, get_args

from archspec.ops import OPS, Op
from archspec.ops.base import ACTIVATIONS, InitializerName

FAMILY_ORDER = ("core", "conv", "pool", "spatial", "norm", "scale", "merge", "sequence")


@dataclass(frozen=True)
class FieldDoc:
    """One field of an op, as the reference shows it."""

    name: str
    type: str
    default: str  # "required" for fields without one, else the default in YAML spelling
    description: str

    @property
    def required(self) -> bool:
        return self.default == "required"


def yaml_value(value: Any) -> str:
    """A default as it would be written in a spec (``null``, ``true``, ``[1, 1]``)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(exclude_none=True)
    return json.dumps(value)


def _bounds(schema: dict[str, Any]) -> str:
    low = (
        f">{schema['exclusiveMinimum']}"
        if "exclusiveMinimum" in schema
        else f">={schema['minimum']}"
        if "minimum" in schema
        else ""
    )
    high = (
        f"<{schema['exclusiveMaximum']}"
        if "exclusiveMaximum" in schema
        else f"<={schema['maximum']}"
        if "maximum" in schema
        else ""
    )
    return low + ("," if low and high else "") + high


def _aliases() -> dict[frozenset[str], str]:
    """Enums shared by many fields, shown by name (and spelled out once in the legend)."""
    return {
        frozenset(ACTIVATIONS): "activation",
        frozenset(get_args(InitializerName)): "initializer",
    }


LEGEND = {
    "activation": " | ".join(ACTIVATIONS),
    "initializer": " | ".join(get_args(InitializerName))
    + " | {name: constant|random_normal|random_uniform|truncated_normal|variance_scaling, ...}"
    " (archspec schema has every field)",
    "regularizer": "{l1: float>=0, l2: float>=0}",
}
REF_ALIASES = {"InitializerSpec": "initializer", "Regularizer": "regularizer"}


def type_text(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short human spelling of a JSON Schema type: ``int>0 | [int>0, int>0]``."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in REF_ALIASES:
            return REF_ALIASES[name]
        return "{" + ", ".join(defs[name].get("properties", {})) + "}"
    if "anyOf" in schema:
        parts = list(dict.fromkeys(type_text(s, defs) for s in schema["anyOf"]))
        return " | ".join([p for p in parts if p != "null"] + [p for p in parts if p == "null"])
    if "enum" in schema:
        alias = _aliases().get(frozenset(schema["enum"]))
        return alias or "|".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type")
    if kind == "array":
        item = type_text(schema.get("items", {}), defs)
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None and low == high and low <= 3:
            return "[" + ", ".join([item] * low) + "]"
        size = f" ({low or 0}-{high})" if high is not None else ""
        return f"list[{item}]{size}"
    names = {"integer": "int", "number": "float", "string": "str", "boolean": "bool"}
    if isinstance(kind, str):
        return names.get(kind, kind) + _bounds(schema)
    return "any"


def field_docs(cls: type[Op]) -> list[FieldDoc]:
    """The fields of an op, required ones first, each with type, default and description."""
    schema = cls.model_json_schema()
    defs = schema.get("$defs", {})
    docs = []
    for name, info in cls.model_fields.items():
        prop = schema["properties"][name]
        default = "required" if info.is_required() else yaml_value(info.get_default())
        docs.append(FieldDoc(name, type_text(prop, defs), default, info.description or ""))
    keys = cls.key_fields
    return sorted(
        docs, key=lambda d: (not d.required, keys.index(d.name) if d.name in keys else len(keys))
    )


def _doc(cls: type[Op]) -> str:
    return inspect.cleandoc(cls.__doc__ or "")


def _columns(rows: list[tuple[str, ...]], indent: str) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        (indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip()
        for row in rows
    ]


def list_text() -> str:
    """Every op, grouped by family: its summary line, then one line per field."""
    out = []
    families = sorted({cls.family for cls in OPS.values()}, key=_family_rank)
    for family in families:
        out.append(f"{family}:")
        for kind, cls in OPS.items():
            if cls.family != family:
                continue
            out.append(f"  {kind} - {_doc(cls).splitlines()[0] if _doc(cls) else ''}".rstrip())
            fields = field_docs(cls)
            if fields:
                out += _columns([(f.name, f.type, f.default) for f in fields], "      ")
        out.append("")
    out += ["types:", *legend(list(LEGEND)), ""]
    out.append("`archspec ops OP` shows one op with field descriptions.")
    return "\n".join(out)


def _family_rank(family: str) -> tuple[int, str]:
    return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), family)


def inputs_text(cls: type[Op]) -> str:
    if cls.max_inputs == 0:
        return "none (the model input)"
    if cls.min_inputs == cls.max_inputs:
        return f"{cls.min_inputs} (default: the layer before)"
    return f"{cls.min_inputs} or more, listed in `inputs:`"


def example(kind: str, fields: list[FieldDoc]) -> str:
    """A layer entry with the required fields as placeholders (and inputs for merges)."""
    required = ", ".join(f"{f.name}: <{_placeholder(f.type)}>" for f in fields if f.required)
    entry = f"- {kind}: {{{required}}}"
    if OPS[kind].min_inputs > 1:
        entry += "\n    inputs: [<layer>, <layer>]"
    return entry


def _placeholder(type_name: str) -> str:
    """The first alternative of a type, without bounds: ``int>0 | [...]`` -> ``int``."""
    first = type_name.split(" | ")[0].split(" (")[0]
    return re.sub(r",?[<>]=?[-+\d.e]+", "", first) if first[:1].isalpha() else first


def legend(types: list[str]) -> list[str]:
    """Lines spelling out the aliased types that ``types`` use."""
    used = [name for name in LEGEND if any(name in t for t in types)]
    return _columns([(f"{name}:", LEGEND[name]) for name in used], "  ") if used else []


def op_text(kind: str) -> str:
    """One op in full: docstring, inputs, fields with descriptions, an example entry."""
    cls = OPS[kind]
    fields = field_docs(cls)
    out = [f"{kind} ({cls.family})", "", textwrap.indent(_doc(cls), "  "), ""]
    out.append(f"inputs: {inputs_text(cls)}")
    if fields:
        rows = _columns(
            [("name", "type", "default")] + [(f.name, f.type, f.default) for f in fields], "  "
        )
        out += ["fields:", rows[0]]
        for row, field in zip(rows[1:], fields, strict=True):
            out.append(row)
            out += textwrap.wrap(
                field.description, 96, initial_indent=" " * 6, subsequent_indent=" " * 6
            )
    else:
        out.append("fields: none")
    if kind != "input":
        out += ["", "example:", f"  {example(kind, fields)}"]
    types = legend([f.type for f in fields])
    if types:
        out += ["", "types:", *types]
    return "\n".join(out)
