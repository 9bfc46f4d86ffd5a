"""YAML text to a tree of located values (every node knows its file:line:col).

Only YAML's core data (mappings, sequences, strings, numbers, booleans, null) is accepted: no tags
that construct objects, no duplicate keys, and a cap on the expanded size so that an alias bomb is
refused before it is built.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from archspec.diagnostics import Diagnostic, Location, SpecError
from archspec.frontend.compose import AliasUse, Unusual, compose, compose_plain
from archspec.limits import MAX_INT_DIGITS, MAX_YAML_DEPTH, MAX_YAML_NODES

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
_FLOAT_RE = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")  # used with fullmatch
# NOTE: libyaml's parser, when PyYAML has it, reads a 10,000-layer spec ~20x faster.
_FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
# YAML 1.1 line breaks that editors (and YAML 1.2) do not break lines at: inside a comment they
# would end it and turn the rest into data nobody sees.
_HIDDEN_BREAKS = re.compile("[\x85\u2028\u2029]")
_EDITOR_BREAKS = re.compile(r"\r\n?|\n")
# The plain number and boolean forms that YAML 1.1 and YAML 1.2 read alike; PyYAML (YAML 1.1)
# would read `010` as 8, `1:30` as 90, `1_000` as 1000 and `on` as true.
_PORTABLE = {
    "tag:yaml.org,2002:int": re.compile(r"[-+]?(0|[1-9][0-9]*)|0x[0-9a-fA-F]+"),
    "tag:yaml.org,2002:float": re.compile(
        r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    ),
    "tag:yaml.org,2002:bool": re.compile(r"true|True|TRUE|false|False|FALSE"),
}


@dataclass(eq=False)
class YNode:
    """A located YAML value. ``param`` names the spec param it was substituted from, if any."""

    location: Location
    param: str | None = field(default=None, kw_only=True)


@dataclass(eq=False)
class YScalar(YNode):
    value: Any
    # YAML's scalar style (None plain, "'" or '"' quoted, "|" or ">" block), so that a column
    # inside the text (of an expression) can be located.
    style: str | None = field(default=None, kw_only=True)


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
        where = text_location(filename, text, text.index("\x00"))
        raise SpecError([Diagnostic("binary data (a NUL byte), not a YAML spec", where)])
    hidden = _HIDDEN_BREAKS.search(text)
    if hidden:
        message = (
            f"character U+{ord(hidden.group()):04X} is not allowed: YAML 1.1 reads it as a line "
            "break that editors do not show; use a newline"
        )
        raise SpecError([Diagnostic(message, text_location(filename, text, hidden.start()))])
    try:
        return _plain(text, filename)
    except Unusual:
        pass  # aliases, tags or a problem: the full path below reads (and words) it
    try:
        root, aliased = _compose(text, filename, _FAST_LOADER)
    except (yaml.YAMLError, ValueError):
        # The pure-Python parser words every error, so messages never depend on libyaml.
        try:
            root, aliased = _compose(text, filename, yaml.SafeLoader)
        except yaml.YAMLError as err:
            raise SpecError([_yaml_diagnostic(err, text, filename)]) from None
    if root is None:
        raise SpecError([Diagnostic("empty spec", Location(filename, 1, 1))])
    if aliased:  # without aliases the converter's own count bounds the size
        _check_expanded_size(root, filename)
    return _Converter(filename).convert(root, depth=0)


def _plain(text: str, filename: str) -> YNode:
    """An ordinary document in one pass (frontend/compose.py), each distinct scalar read once:
    its value depends only on its text, plainness and style."""
    converter = _Converter(filename)
    resolve = _RESOLVER.resolve

    def read(event: Any) -> tuple[Any, str | None]:
        tag = resolve(yaml.ScalarNode, event.value, event.implicit)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, style=event.style)
        try:
            converter._check_tag(node)
            return converter._scalar(node), event.style or None
        except SpecError:
            raise Unusual from None

    def too_deep(mark: yaml.Mark) -> SpecError:
        return _too_deep(filename, mark)

    limits = (MAX_YAML_DEPTH, MAX_YAML_NODES)
    make = (YScalar, YSeq, YMap, Location)
    return compose_plain(text, _FAST_LOADER, limits, read, make, filename, too_deep)


def text_location(filename: str, text: str, index: int) -> Location:
    """The location of character ``index``, counting lines as editors do (LF, CRLF or CR)."""
    before = text[:index]
    breaks = list(_EDITOR_BREAKS.finditer(before))
    start = breaks[-1].end() if breaks else 0
    return Location(filename, len(breaks) + 1, index - start + 1)


def _compose(text: str, filename: str, loader: type) -> tuple[yaml.Node | None, bool]:
    """The composed document, and whether it uses aliases (only then can it outgrow its text).

    One pass over the parser's events (frontend/compose.py): the nesting limit is enforced as
    the document is composed, without recursion, so `[[[[...` cannot exhaust the stack.
    """

    def too_deep(mark: yaml.Mark) -> SpecError:
        return _too_deep(filename, mark)

    return compose(text, loader, MAX_YAML_DEPTH, too_deep)


def _too_deep(filename: str, mark: yaml.Mark) -> SpecError:
    where = _location(filename, mark)
    return SpecError([Diagnostic(f"spec nests deeper than {MAX_YAML_DEPTH} levels", where)])


def _yaml_diagnostic(err: yaml.YAMLError, text: str, filename: str) -> Diagnostic:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if mark is not None:
        where = _location(filename, mark)
    elif isinstance(err, yaml.reader.ReaderError):  # a character YAML does not allow
        where = text_location(filename, text, err.position)
    else:
        where = Location(filename, 1, 1)
    if isinstance(err, yaml.reader.ReaderError):
        code = err.character if isinstance(err.character, int) else ord(err.character)
        problem = f"character U+{code:04X} is not allowed in YAML"
    else:
        problem = getattr(err, "problem", None) or str(err)
    context, start = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and start is not None and start.line + 1 != where.line:
        problem += f" ({context} that starts at line {start.line + 1}, column {start.column + 1})"
    return Diagnostic(f"invalid YAML: {problem}", where)


def _check_expanded_size(root: yaml.Node, filename: str) -> None:
    """Refuse an alias bomb before building it.

    Aliases share composed nodes, so the expanded size is a sum over distinct nodes, each
    computed once (depth-first, without recursion); an alias inside its own anchor would expand
    forever.
    """
    sizes: dict[int, int] = {}
    on_path = {id(root)}
    stack = [(root, iter(_children(root)))]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is not None:
            if id(child) in on_path:
                message = "recursive YAML alias: it would expand forever"
                raise SpecError([Diagnostic(message, _location(filename, child.start_mark))])
            if id(child) not in sizes:
                on_path.add(id(child))
                stack.append((child, iter(_children(child))))
            continue
        stack.pop()
        on_path.discard(id(node))
        sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
        if sizes[id(node)] > MAX_YAML_NODES:
            message = (
                f"spec expands to more than {MAX_YAML_NODES:,} YAML values "
                "(an alias bomb?); refusing to expand it"
            )
            raise SpecError([Diagnostic(message, _location(filename, node.start_mark))])


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, AliasUse):
        return [node.target]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _location(filename: str, mark: yaml.Mark) -> Location:
    return Location(filename, mark.line + 1, mark.column + 1)


class _Converter:
    """Walks composed YAML nodes, counting every visit so that aliases cannot explode."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.visited = 0
        self.constructor = yaml.constructor.SafeConstructor()
        self.alias_at: Location | None = None  # inside a value used through an alias: its use

    def where(self, node: yaml.Node) -> Location:
        return self.alias_at or _location(self.filename, node.start_mark)

    def fail(self, message: str, node: yaml.Node) -> SpecError:
        return SpecError([Diagnostic(message, self.where(node))])

    def convert(self, node: yaml.Node, depth: int) -> YNode:
        if isinstance(node, AliasUse):
            outer = self.alias_at
            self.alias_at = outer or self.where(node)
            try:
                return self.convert(node.target, depth)
            finally:
                self.alias_at = outer
        self.visited += 1
        if self.visited > MAX_YAML_NODES:
            raise self.fail(
                f"spec expands to more than {MAX_YAML_NODES:,} YAML values "
                "(an alias bomb?); refusing to expand it",
                node,
            )
        if depth > MAX_YAML_DEPTH:
            raise self.fail(f"spec nests deeper than {MAX_YAML_DEPTH} levels", node)
        self._check_tag(node)
        where = self.where(node)
        if isinstance(node, yaml.ScalarNode):
            return YScalar(where, self._scalar(node), style=node.style or None)
        if isinstance(node, yaml.SequenceNode):
            return YSeq(where, [self.convert(item, depth + 1) for item in node.value])
        return self._mapping(node, where, depth)

    def _check_tag(self, node: yaml.Node) -> None:
        """Only plain data: no tag that would construct an object (keys included)."""
        if node.tag == "tag:yaml.org,2002:timestamp" and not node.style:
            raise self.fail(f"YAML reads {node.value!r} as a date; quote it to mean text", node)
        if node.tag not in _STANDARD_TAGS:
            raise self.fail(f"YAML tag {node.tag!r} is not allowed: specs are plain data", node)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_INT_DIGITS:
            raise self.fail(f"integer with {len(node.value)} digits is out of range", node)
        # Strings, most of a spec, are the scalar's text: skip the constructor's bookkeeping.
        str_tag = node.tag == "tag:yaml.org,2002:str"
        if not str_tag and not node.style and node.tag in _PORTABLE:
            self._check_portable(node)
        value = node.value if str_tag else self.constructor.construct_object(node)
        # A plain scalar has style None (PyYAML) or "" (libyaml).
        if isinstance(value, str) and not node.style and _FLOAT_RE.fullmatch(value):
            value = float(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"{node.value!r} is not a finite number", node)
        return value

    def _check_portable(self, node: yaml.ScalarNode) -> None:
        """Refuse numbers and booleans that YAML 1.1 reads differently from YAML 1.2."""
        if _PORTABLE[node.tag].fullmatch(node.value):
            return
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_INT_DIGITS:
            return  # refused for its length, with a clearer message
        read = self.constructor.construct_object(node)
        shown = str(read).lower() if isinstance(read, bool) else repr(read)
        raise self.fail(
            f"YAML 1.1 reads {node.value!r} as {shown} (YAML 1.2 does not); write "
            f"{shown} to mean that, or quote it to mean text",
            node,
        )

    def _mapping(self, node: yaml.MappingNode, where: Location, depth: int) -> YMap:
        items: dict[str, YNode] = {}
        keys: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key_where = self.where(key_node)
            if isinstance(key_node, AliasUse):  # `*name: value`
                key_node = key_node.target
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail("YAML merge keys (<<) are not supported: use a block", key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail("mapping keys must be plain names", key_node)
            self._check_tag(key_node)
            key = str(self._scalar(key_node))
            if key in items:
                raise self.fail(f"duplicate key {key!r}", key_node)
            keys[key] = key_where
            items[key] = self.convert(value_node, depth + 1)
        return YMap(where, items, keys)
