"""YAML text to a tree of located values (every node knows its file:line:col).

Only YAML's core data (mappings, sequences, strings, numbers, booleans, null) is accepted: no tags
that construct objects, no duplicate keys, and a cap on the expanded size so that an alias bomb is
refused before it is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from archspec.diagnostics import Diagnostic, Location, SpecError

MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 64
_STANDARD_TAGS = {
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
# NOTE: YAML 1.1 reads `1e-4` (no dot) as a string; people mean a float.
_FLOAT_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


@dataclass(eq=False)
class YNode:
    """A located YAML value. ``param`` names the spec param it was substituted from, if any."""

    location: Location
    param: str | None = field(default=None, kw_only=True)


@dataclass(eq=False)
class YScalar(YNode):
    value: Any


@dataclass(eq=False)
class YSeq(YNode):
    items: list[YNode]


@dataclass(eq=False)
class YMap(YNode):
    items: dict[str, YNode]
    key_locations: dict[str, Location]

    def get(self, key: str) -> YNode | None:
        return self.items.get(key)


def to_python(node: YNode) -> Any:
    """Strip locations: the plain data pydantic validates."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_python(item) for item in node.items]
    return {key: to_python(value) for key, value in node.items.items()}  # type: ignore[attr-defined]


def parse_yaml(text: str | bytes, filename: str) -> YNode:
    """Parse one YAML document into located nodes, or raise SpecError with located diagnostics."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            where = Location(filename, 1, 1)
            raise SpecError([Diagnostic(f"not UTF-8 text ({err.reason})", where)]) from None
    if "\x00" in text:
        raise SpecError([Diagnostic("binary data, not a YAML spec", Location(filename, 1, 1))])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = _location(filename, mark) if mark else Location(filename, 1, 1)
        problem = getattr(err, "problem", None) or str(err)
        raise SpecError([Diagnostic(f"invalid YAML: {problem}", where)]) from None
    if root is None:
        raise SpecError([Diagnostic("empty spec", Location(filename, 1, 1))])
    return _Converter(filename).convert(root, depth=0)


def _location(filename: str, mark: yaml.Mark) -> Location:
    return Location(filename, mark.line + 1, mark.column + 1)


class _Converter:
    """Walks composed YAML nodes, counting every visit so that aliases cannot explode."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.visited = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, message: str, node: yaml.Node) -> SpecError:
        return SpecError([Diagnostic(message, _location(self.filename, node.start_mark))])

    def convert(self, node: yaml.Node, depth: int) -> YNode:
        self.visited += 1
        if self.visited > MAX_YAML_NODES:
            raise self.fail(
                f"spec expands to more than {MAX_YAML_NODES:,} YAML values "
                "(an alias bomb?); refusing to expand it",
                node,
            )
        if depth > MAX_YAML_DEPTH:
            raise self.fail(f"spec nests deeper than {MAX_YAML_DEPTH} levels", node)
        if node.tag not in _STANDARD_TAGS:
            raise self.fail(f"YAML tag {node.tag!r} is not allowed: specs are plain data", node)
        where = _location(self.filename, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return YScalar(where, self._scalar(node))
        if isinstance(node, yaml.SequenceNode):
            return YSeq(where, [self.convert(item, depth + 1) for item in node.value])
        return self._mapping(node, where, depth)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        value = self.constructor.construct_object(node)
        if isinstance(value, str) and node.style is None and _FLOAT_RE.match(value):
            return float(value)
        return value

    def _mapping(self, node: yaml.MappingNode, where: Location, depth: int) -> YMap:
        items: dict[str, YNode] = {}
        keys: dict[str, Location] = {}
        for key_node, value_node in node.value:
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag == "tag:yaml.org,2002:merge"
            ):
                raise self.fail("mapping keys must be plain names", key_node)
            key = str(self._scalar(key_node))
            if key in items:
                raise self.fail(f"duplicate key {key!r}", key_node)
            keys[key] = _location(self.filename, key_node.start_mark)
            items[key] = self.convert(value_node, depth + 1)
        return YMap(where, items, keys)
