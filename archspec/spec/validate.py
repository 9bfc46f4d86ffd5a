"""Pydantic validation errors turned into located diagnostics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.diagnostics import Diagnostic, did_you_mean
from archspec.spec.source import YMap, YNode, YSeq


def locate(node: YNode, loc: tuple[Any, ...]) -> tuple[YNode, str]:
    """Follow a pydantic ``loc`` into the located tree: (deepest node, its path suffix)."""
    path = ""
    for key in loc:
        if isinstance(node, YMap) and isinstance(key, str) and key in node.items:
            node, path = node.items[key], f"{path}.{key}"
        elif isinstance(node, YSeq) and isinstance(key, int) and 0 <= key < len(node.items):
            node, path = node.items[key], f"{path}[{key}]"
        else:
            break
    return node, path


def diagnostics_from(
    error: ValidationError, node: YNode, base_path: str, model: type[BaseModel]
) -> list[Diagnostic]:
    """One diagnostic per field at fault (union branches collapsed), in source order."""
    found: dict[str, Diagnostic] = {}
    for item in error.errors():
        loc = tuple(item["loc"])
        target, suffix = locate(node, loc)
        path = base_path + suffix
        if item["type"] == "extra_forbidden":
            # Point at the unknown key itself, inside its parent mapping.
            parent, parent_path = locate(node, loc[:-1])
            key = str(loc[-1])
            choices = _fields_at(model, loc[:-1])
            where = (
                parent.key_locations.get(key, parent.location)
                if isinstance(parent, YMap)
                else parent.location
            )
            found[f"{parent_path}.{key}"] = Diagnostic(
                f"unknown field '{key}'",
                where,
                f"{base_path}{parent_path}.{key}",
                did_you_mean(key, choices) or (f"fields: {', '.join(choices)}" if choices else ""),
            )
            continue
        if item["type"] == "missing":
            field = str(loc[-1])
            found[f"{path}.{field}"] = Diagnostic(
                f"missing required field '{field}'", target.location, path
            )
            continue
        if path in found:
            continue
        message = item["msg"][0].lower() + item["msg"][1:]
        given = item.get("input")
        text = f"invalid value {given!r}: {message}" if not isinstance(given, dict) else message
        found[path] = Diagnostic(text, target.location, path)
    return sorted(found.values(), key=lambda d: (d.location.line, d.location.col))


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model at ``loc``, for did-you-mean hints."""
    current: Any = model
    for key in loc:
        fields = getattr(current, "model_fields", None)
        if not fields or key not in fields:
            return []
        annotation = fields[key].annotation
        current = next(
            (
                a
                for a in getattr(annotation, "__args__", (annotation,))
                if hasattr(a, "model_fields")
            ),
            None,
        )
    return list(getattr(current, "model_fields", {}))
