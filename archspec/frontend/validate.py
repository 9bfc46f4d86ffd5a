"""Pydantic validation errors turned into located diagnostics."""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from archspec.diagnostics import Diagnostic, Location, did_you_mean
from archspec.frontend.computed import float_for_int_hint
from archspec.frontend.source import YMap, YNode, YSeq

MAX_QUOTED = 60
BESIDE_THE_OP = ("name", "inputs", "repeat")  # keys of a layer entry, not of its op


def child(node: YNode | None, key: Any) -> YNode | None:
    """The value at ``key`` (a mapping key or a list index) under ``node``, if there is one."""
    if isinstance(node, YMap) and isinstance(key, str):
        return node.items.get(key)
    if isinstance(node, YSeq) and isinstance(key, int) and 0 <= key < len(node.items):
        return node.items[key]
    return None


def locate(node: YNode, loc: tuple[Any, ...]) -> tuple[YNode, str]:
    """Follow a pydantic ``loc`` into the located tree: (deepest node, its path suffix)."""
    node, path, _ = _walk(node, loc)
    return node, path


def _walk(node: YNode, loc: tuple[Any, ...]) -> tuple[YNode, str, Location]:
    """Like ``locate``, also giving where the deepest node was named (its key, if it has one)."""
    path, named = "", node.location
    for key in loc:
        found = child(node, key)
        if found is None:
            break
        if isinstance(node, YMap):
            named = node.key_locations.get(key, found.location)
        else:
            named = found.location
        node, path = found, f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
    return node, path, named


def diagnostics_from(
    error: ValidationError, node: YNode, base_path: str, model: type[BaseModel]
) -> list[Diagnostic]:
    """One diagnostic per field at fault (union branches collapsed), in source order."""
    found: dict[str, Diagnostic] = {}
    for item in collapse_unions(error.errors(), node):
        loc = tuple(item["loc"])
        target, suffix = locate(node, loc)
        path = _join(base_path, suffix)
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
            hint = did_you_mean(key, choices) or (
                f"fields: {', '.join(choices)}" if choices else ""
            )
            if key in BESIDE_THE_OP and len(loc) == 1 and base_path.startswith("layers"):
                hint = f"'{key}' goes beside the op key, not inside its fields"
            found[f"{parent_path}.{key}"] = Diagnostic(
                f"unknown field '{key}'", where, _join(base_path, f"{parent_path}.{key}"), hint
            )
            continue
        if item["type"] == "missing":
            # Point at the key that owns the incomplete mapping (`conv2d:`), where a field goes.
            field = str(loc[-1])
            _, _, named = _walk(node, loc[:-1])
            found[f"{path}.{field}"] = Diagnostic(f"missing required field '{field}'", named, path)
            continue
        if path in found:
            continue
        message = _plain(item["msg"])
        given = item.get("input")
        text = message if isinstance(given, dict) else f"invalid value {_quote(given)}: {message}"
        hint = f"the value of param '{target.param}'" if target.param else ""
        hint = float_for_int_hint(target, given) or hint
        if isinstance(given, str) and item["type"] in ("literal_error", "union_tag_invalid"):
            hint = did_you_mean(given, re.findall(r"'([^']+)'", item["msg"])) or hint
        found[path] = Diagnostic(text, target.location, path, hint)
    return sorted(found.values(), key=lambda d: (d.location.line, d.location.col))


def collapse_unions(items: list[Any], node: YNode) -> list[dict[str, Any]]:
    """Keep, for each union-typed value, only the errors of the branch the user meant.

    Pydantic reports every branch of a union (``padding: valid | same | int | list``), tagging
    the ``loc`` with the branch. The branch whose errors reach deepest into the given value is
    the one the user was writing (a mapping given to ``initializer`` means the mapping form);
    on a tie a wrong value beats a wrong type. When the value fits no branch at all, the
    branches' expectations are merged into one message.
    """
    items = [dict(item, loc=tuple(item["loc"])) for item in items]
    while True:
        tags = [_first_tag(node, item) for item in items]
        start = next((i for i, tag in enumerate(tags) if tag is not None), None)
        if start is None:
            return items
        site = items[start]["loc"][: tags[start]]
        group = [
            i
            for i, item in enumerate(items)
            if tags[i] == len(site) and item["loc"][: len(site)] == site
        ]
        branches: dict[Any, list[dict[str, Any]]] = {}
        for i in group:
            branches.setdefault(items[i]["loc"][len(site)], []).append(items[i])
        best = max(branches.values(), key=_score)
        if _score(best) == (len(site) + 1, False):  # no branch accepts even the value's type
            wanted = [_plain(e["msg"]).removeprefix("input should be ") for e in _flat(branches)]
            merged = dict(best[0], loc=site, msg="Input should be " + " or ".join(wanted))
            replacement = [merged]
        else:
            replacement = [dict(e, loc=site + e["loc"][len(site) + 1 :]) for e in best]
        rest = [it for i, it in enumerate(items) if i > start and i not in group]
        items = items[:start] + replacement + rest


def _flat(branches: dict[Any, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for errors in branches.values():
        for error in errors:
            seen.setdefault(error["msg"], error)
    return list(seen.values())


def _score(errors: list[dict[str, Any]]) -> tuple[int, bool]:
    return max((len(e["loc"]), not _is_type_error(e)) for e in errors)


def _is_type_error(error: dict[str, Any]) -> bool:
    kind = error["type"]
    if kind == "literal_error":
        return not isinstance(error.get("input"), str)
    return kind.endswith(("_type", "_parsing")) or kind == "is_instance_of"


def _first_tag(node: YNode | None, error: dict[str, Any]) -> int | None:
    """Index of the first union-branch tag in an error's ``loc`` (a component that is not data)."""
    loc = error["loc"]
    named_key = error["type"] in ("missing", "extra_forbidden")  # loc ends with a field name
    for index, key in enumerate(loc):
        found = child(node, key)
        if found is not None:
            node = found
        elif (named_key and index == len(loc) - 1) or not isinstance(key, str):
            return None
        else:
            return index
    return None


def _plain(message: str) -> str:
    """Pydantic's message in the spec's words: lower-case start, no Python class names."""
    message = re.sub(r"^(Value error|Assertion failed), ", "", message)
    message = re.sub(r"a valid dictionary( or instance of \w+)?", "a mapping", message)
    message = message.replace(" after validation", "")
    return message[:1].lower() + message[1:]


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 3] + "..."


def _join(base: str, suffix: str) -> str:
    return (base + suffix).lstrip(".")


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model at ``loc``, for did-you-mean hints."""
    current: Any = model
    for key in loc:
        fields = getattr(current, "model_fields", None)
        if fields and key in fields:
            current = _model_or_mapping(fields[key].annotation)
        elif get_origin(current) is dict:
            current = _model_or_mapping(get_args(current)[1])  # `key` names an entry
        else:
            return []
    return list(getattr(current, "model_fields", {}))


def _model_or_mapping(annotation: Any) -> Any:
    """The model class (or ``dict[...]``) inside an annotation such as ``X | None``."""
    for arg in (annotation, *get_args(annotation)):
        if hasattr(arg, "model_fields") or get_origin(arg) is dict:
            return arg
    return None
