"""YAML events to a composed document in one pass, with the nesting guard applied on the way.

PyYAML's composers (its Python one and libyaml's) recurse once per nesting level, so ``[[[[...``
a million deep would exhaust the stack (libyaml's crashes the process). Checking the depth on
the event stream first and then composing reads the text twice; this composer reads libyaml's
(or PyYAML's) events once, iteratively, refuses a document nested deeper than the limit at the
first event past it, and keeps every alias visible as an ``AliasUse`` (what was used, and where),
so that the converter can bound what aliases expand to and report where a value was used.
The nodes are PyYAML's own, composed exactly as its composer composes them.
``compose_plain`` is the fast road for the ordinary document (no alias, anchor or tag, no
problem): archspec's located nodes straight from the events, with no PyYAML node in between.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode


class AliasUse:
    """An alias in the composed tree: the anchored node, and where the alias was written."""

    def __init__(self, target: Any, mark: yaml.Mark) -> None:
        self.target, self.start_mark = target, mark


def compose(
    text: str, loader: type, max_depth: int, too_deep: Callable[[yaml.Mark], Exception]
) -> tuple[yaml.Node | None, bool]:
    """The single document of ``text`` and whether it uses aliases; raises ``too_deep(mark)``
    at the first collection nested deeper than ``max_depth``, and PyYAML's errors otherwise."""
    parser = loader(text)
    try:
        return _Composer(parser, max_depth, too_deep).run()
    finally:
        parser.dispose()


class _Composer:
    def __init__(self, parser: Any, max_depth: int, too_deep: Callable[[yaml.Mark], Exception]):
        self.parser, self.max_depth, self.too_deep = parser, max_depth, too_deep
        self.anchors: dict[str, Any] = {}
        self.aliased = False

    def run(self) -> tuple[yaml.Node | None, bool]:
        get = self.parser.get_event
        get()  # StreamStart
        event = get()
        if isinstance(event, StreamEndEvent):
            return None, False
        document = event  # DocumentStart
        root = self.node(get)
        get()  # DocumentEnd
        event = get()
        if isinstance(event, DocumentStartEvent):
            raise ComposerError(
                "expected a single document in the stream",
                document.start_mark,
                "but found another document",
                event.start_mark,
            )
        return root, self.aliased

    def node(self, get: Callable[[], Any]) -> Any:
        """The node whose first event comes next, its collections composed without recursion."""
        resolve = self.parser.resolve
        # NOTE: a spec repeats few distinct scalars (3, same, $width, ...); the resolver's tag
        # depends only on the text and its plainness, so each is resolved once.
        tags: dict[tuple[str, Any], str] = {}
        stack: list[tuple[Any, list[Any]]] = []  # open collections: (node, children so far)
        while True:
            event = get()
            if isinstance(event, ScalarEvent):
                self._check_anchor(event)
                tag = event.tag
                if tag is None or tag == "!":
                    key = (event.value, event.implicit)
                    tag = tags.get(key)
                    if tag is None:
                        tag = tags[key] = resolve(ScalarNode, event.value, event.implicit)
                done: Any = ScalarNode(
                    tag, event.value, event.start_mark, event.end_mark, style=event.style
                )
                self._anchor(event, done)
            elif isinstance(event, SequenceStartEvent | MappingStartEvent):
                self._check_anchor(event)
                if len(stack) >= self.max_depth:
                    raise self.too_deep(event.start_mark)
                kind = SequenceNode if isinstance(event, SequenceStartEvent) else MappingNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(kind, None, event.implicit)
                opened = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
                self._anchor(event, opened)
                stack.append((opened, []))
                continue
            elif isinstance(event, CollectionEndEvent):
                done, children = stack.pop()
                done.end_mark = event.end_mark
                if isinstance(done, MappingNode):
                    done.value = list(zip(children[::2], children[1::2], strict=True))
                else:
                    done.value = children
            elif isinstance(event, AliasEvent):
                if event.anchor not in self.anchors:
                    raise ComposerError(
                        None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                    )
                self.aliased = True
                done = AliasUse(self.anchors[event.anchor], event.start_mark)
            else:  # pragma: no cover - the parser emits nothing else inside a document
                raise ComposerError(None, None, f"unexpected {event!r}", event.start_mark)
            if not stack:
                return done
            stack[-1][1].append(done)

    def _check_anchor(self, event: Any) -> None:
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            raise ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self.anchors[anchor].start_mark,
                "second occurrence",
                event.start_mark,
            )

    def _anchor(self, event: Any, node: Any) -> None:
        if event.anchor is not None:
            self.anchors[event.anchor] = node


class Unusual(Exception):
    """The document needs the full path (aliases, anchors, tags, or any problem to word)."""


def compose_plain(
    text: str,
    loader: type,
    limits: tuple[int, int],
    read: Callable[[Any], tuple[Any, Any]],
    make: tuple[type, type, type, type],
    filename: str,
    too_deep: Callable[[yaml.Mark], Exception],
) -> Any:
    """The located tree of an ordinary document straight from the parser's events, in one pass.

    Most specs use no alias, anchor or tag and have no problem: for them this builds the
    converter's nodes directly (no PyYAML node, no second walk). ``limits`` are the nesting
    depth and the number of values; ``read(event)`` gives a scalar's (value, style) or raises
    ``Unusual``, and is asked once per distinct (text, implicitness, style); ``make`` holds
    the scalar, sequence, mapping and location classes. Anything unusual (an alias, an anchor,
    a tag, a duplicate key, any parser error) raises ``Unusual``, and the caller takes the full
    path, which words every problem as before (that path parses again, up to where this one
    stopped: an anchor comes before its aliases). Nesting past the depth limit raises
    ``too_deep(mark)`` here, at the same event as ``compose``.
    """
    parser = loader(text)
    try:
        get = parser.get_event
        get()  # StreamStart
        event = get()
        if isinstance(event, StreamEndEvent):
            raise Unusual
        root = _plain_node(get, limits, read, make, filename, too_deep)
        get()  # DocumentEnd
        if not isinstance(get(), StreamEndEvent):
            raise Unusual
        return root
    except (yaml.YAMLError, ValueError):
        raise Unusual from None
    finally:
        parser.dispose()


def _plain_node(
    get: Callable[[], Any],
    limits: tuple[int, int],
    read: Callable[[Any], tuple[Any, Any]],
    make: tuple[type, type, type, type],
    filename: str,
    too_deep: Callable[[yaml.Mark], Exception],
) -> Any:
    max_depth, max_nodes = limits
    scalar, sequence, mapping, location = make
    known: dict[tuple[Any, Any, Any], tuple[Any, Any]] = {}
    # Open collections: [where, items, key_locations or None (a sequence), pending key];
    # ``top`` is the innermost.
    stack: list[list[Any]] = []
    top: list[Any] | None = None
    count = 0
    while True:
        event = get()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise Unusual
            mark = event.start_mark
            where = location(filename, mark.line + 1, mark.column + 1)
            key = (event.value, event.implicit, event.style)
            found = known.get(key)
            if found is None:
                found = known[key] = read(event)
            if top is not None and top[2] is not None and top[3] is None:
                name = str(found[0])  # a key: the converter's `str(self._scalar(...))`
                if name in top[1]:
                    raise Unusual
                top[3] = name
                top[2][name] = where
                continue
            done = scalar(where, found[0], style=found[1])
            count += 1
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise Unusual
            if len(stack) >= max_depth:
                raise too_deep(event.start_mark)
            if top is not None and top[2] is not None and top[3] is None:
                raise Unusual  # a collection as a key
            count += 1
            mark = event.start_mark
            where = location(filename, mark.line + 1, mark.column + 1)
            top = [where, {}, {}, None] if kind is MappingStartEvent else [where, [], None, None]
            stack.append(top)
            continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            where, items, keys, _ = stack.pop()
            done = sequence(where, items) if keys is None else mapping(where, items, keys)
            top = stack[-1] if stack else None
        else:  # an alias, or anything else
            raise Unusual
        if count > max_nodes:
            raise Unusual
        if top is None:
            return done
        if top[2] is None:
            top[1].append(done)
        else:
            top[1][top[3]] = done
            top[3] = None
