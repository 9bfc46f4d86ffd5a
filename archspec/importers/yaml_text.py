"""Deterministic YAML text for imported specs: flow mappings on one line per layer, wrapped at
100 columns the way the hand-written specs in ``specs/`` are, floats that read back as floats."""

from __future__ import annotations

from typing import Any

WIDTH = 100


def scalar(value: Any) -> str:
    """One YAML scalar that PyYAML (YAML 1.1) reads back as the same Python value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            mantissa = mantissa if "." in mantissa else mantissa + ".0"
            exponent = exponent if exponent[0] in "+-" else "+" + exponent
            text = f"{mantissa}e{exponent}"
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        plain = value[:1].isalpha() or value[:1] == "$"
        plain = (
            plain
            and value.replace("_", "a").replace("$", "a").isalnum()
            and value
            not in (
                "null",
                "true",
                "false",
                "yes",
                "no",
                "on",
                "off",
                "y",
                "n",
            )
        )
        return value if plain else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {value!r} as YAML")


def flow(value: Any) -> str:
    """A value as YAML flow text: ``[3, 3]``, ``{name: constant, value: 0.0}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def mapping_line(prefix: str, fields: dict[str, Any], indent: int) -> list[str]:
    """``prefix{k: v, ...}`` wrapped after commas so that lines stay within ``WIDTH`` columns
    (a nested mapping too long for a line of its own is wrapped the same way)."""
    return _wrap(" " * indent + prefix, fields, "")


def _wrap(head: str, fields: dict[str, Any], tail: str) -> list[str]:
    parts = [f"{k}: {flow(v)}" for k, v in fields.items()]
    if len(head) + sum(len(p) + 2 for p in parts) + len(tail) <= WIDTH:
        return [head + "{" + ", ".join(parts) + "}" + tail]
    pad = " " * (len(head) + 1)
    lines: list[str] = []
    current = head + "{"
    fresh = True  # nothing written on the current line yet
    items = list(fields.items())
    for index, ((key, value), part) in enumerate(zip(items, parts, strict=True)):
        end = "}" + tail if index == len(parts) - 1 else ","
        if not fresh and len(current) + 1 + len(part + end) > WIDTH:
            lines.append(current)
            current, fresh = pad, True
        if isinstance(value, dict) and len(current) + len(part + end) > WIDTH:
            nested = _wrap(current + ("" if fresh else " ") + f"{key}: ", value, end)
            lines += nested[:-1]
            current, fresh = nested[-1], False
            continue
        current += ("" if fresh else " ") + part + end
        fresh = False
    lines.append(current)
    return lines
