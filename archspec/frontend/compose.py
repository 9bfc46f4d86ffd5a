"""YAML events to a composed document in one pass, with the nesting guard applied on the way.

PyYAML's composers (its Python one and libyaml's) recurse once per nesting level, so ``[[[[...``
a million deep would exhaust the stack (libyaml's crashes the process). Checking the depth on
the event stream first and then composing reads the text twice; this composer reads libyaml's
(or PyYAML's) events once, iteratively, refuses a document nested deeper than the limit at the
first event past it, and keeps every alias visible as an ``AliasUse`` (what was used, and where),
so that the converter can bound what aliases expand to and report where a value was used.
The nodes are PyYAML's own, composed exactly as its composer composes them.
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
    MappingStartEvent,
    ScalarEvent,
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
