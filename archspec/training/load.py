"""The recipe of a run: the spec's ``training:`` section, or a ``--recipe`` file, with
``--set training.KEY=VALUE`` overrides, validated into a ``Recipe`` with located errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archspec.diagnostics import Diagnostic, Location, SpecError
from archspec.frontend.load import read_source
from archspec.frontend.source import YMap, YNode, YScalar, parse_yaml, to_python
from archspec.frontend.validate import diagnostics_from, locate
from archspec.ir.graph import Graph
from archspec.training.recipe import Recipe

PREFIX = "training."


@dataclass(frozen=True)
class LoadedRecipe:
    """A validated recipe and the located tree it came from (for errors found later)."""

    recipe: Recipe
    node: YNode
    base_path: str

    def where(self, path: str) -> tuple[Location, str]:
        """The location and full spec path of ``path`` (e.g. ``data.path``) in the recipe."""
        keys = tuple(int(k) if k.isdigit() else k for k in path.split(".") if k)
        found, suffix = locate(self.node, keys)
        return found.location, (self.base_path + suffix).lstrip(".")

    def error(self, message: str, path: str, hint: str = "") -> SpecError:
        location, full = self.where(path)
        return SpecError([Diagnostic(message, location, full, hint)])


def split_overrides(pairs: Iterable[tuple[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``--set`` pairs split into (spec params, ``training.*`` keys without the prefix)."""
    spec: dict[str, Any] = {}
    training: dict[str, Any] = {}
    for key, value in pairs:
        if key.startswith(PREFIX):
            training[key.removeprefix(PREFIX)] = value
        else:
            spec[key] = value
    return spec, training


def load_recipe(
    graph: Graph,
    recipe_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedRecipe:
    """The run's recipe: ``recipe_file`` (its top level, or its ``training:`` key) if given,
    else the spec's ``training:`` section, else the defaults; then ``overrides`` (dotted keys).

    Raises:
        SpecError: every located problem (unknown optimizer, negative learning rate, ...).
    """
    if recipe_file is not None:
        text, filename = read_source(Path(recipe_file))
        node = parse_yaml(text, filename)
        if isinstance(node, YMap) and "training" in node.items:
            node, base = node.items["training"], "training"
        else:
            base = ""
    else:
        root = parse_yaml(graph.source_text, graph.filename)
        found = root.get("training") if isinstance(root, YMap) else None
        node = found or YMap(Location(graph.filename, 1, 1), {}, {})
        base = "training"
    if not isinstance(node, YMap):
        raise SpecError([Diagnostic("the training recipe must be a mapping", node.location, base)])
    for key, value in (overrides or {}).items():
        _set(node, key.split("."), value)
    try:
        recipe = Recipe.model_validate(to_python(node), strict=True)
    except ValidationError as err:
        raise SpecError(diagnostics_from(err, node, base, Recipe)) from None
    return LoadedRecipe(recipe, node, base)


def _set(node: YMap, keys: list[str], value: Any) -> None:
    """Put an override into the located tree (located at ``--set``), making mappings on the way."""
    where = Location(f"--set {PREFIX}{'.'.join(keys)}", 1, 1)
    for key in keys[:-1]:
        child = node.items.get(key)
        if not isinstance(child, YMap):
            child = YMap(where, {}, {})
            node.items[key], node.key_locations[key] = child, where
        node = child
    node.items[keys[-1]], node.key_locations[keys[-1]] = _located(value, where), where


def _located(value: Any, where: Location) -> YNode:
    from archspec.frontend.source import YSeq

    if isinstance(value, dict):
        return YMap(
            where, {k: _located(v, where) for k, v in value.items()}, dict.fromkeys(value, where)
        )
    if isinstance(value, list):
        return YSeq(where, [_located(v, where) for v in value])
    return YScalar(where, value)
