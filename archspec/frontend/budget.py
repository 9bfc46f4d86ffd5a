"""The expander's bounded work: steps, copied values and errors, each with its limit.

A limit on finished layers is not enough: a block whose layers all fail makes no layer at all,
yet nested ``repeat:`` can unroll it 2^30 times; an ``add`` with 4,000 inputs repeated 50,000
times makes few layers of enormous size. So the expander charges every unrolled item (a step)
and every YAML value it copies into a layer (a value), and stops after ``MAX_ERRORS`` distinct
problems, as compilers do. A problem met again (a block used three times fails three times at
the same place) is reported once, with the block and instance it was first met in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from archspec.diagnostics import Diagnostic, Location, SpecError, too_many_errors
from archspec.frontend.source import YMap, YNode, YSeq
from archspec.limits import MAX_ERRORS, MAX_EXPANDED_VALUES, MAX_EXPANSION_STEPS

Hint = str | Callable[[], str]  # a callable is only called for a problem not reported before


class Budget:
    """Counts the expander's work and problems; raises SpecError when a limit is passed."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics  # the expander's own list, shared
        self.seen: set[tuple[Location, str]] = set()
        self.steps = 0
        self.values = 0
        # id -> (node, size): the node is kept so that its id cannot be reused by another.
        self.sizes: dict[int, tuple[YNode, int]] = {}
        self.context: list[str] = []  # "block 'res', instance 'res1'", innermost last

    def report(self, message: str, where: Location, path: str = "", hint: Hint = "") -> None:
        """Record a problem unless it was met already (its hint is worked out only if new)."""
        key = (where, message)
        if key in self.seen:
            return
        self.seen.add(key)
        text = hint() if callable(hint) else hint
        self.diagnostics.append(Diagnostic(message, where, path, text, self.where()))
        self.check_errors()

    def where(self) -> str:
        """The block instances being expanded, innermost first ("" at the top level)."""
        return "in " + ", in ".join(reversed(self.context)) if self.context else ""

    def check_errors(self) -> None:
        """Stop once ``MAX_ERRORS`` problems are known (some stages append them directly)."""
        if len(self.diagnostics) >= MAX_ERRORS:
            kept = self.diagnostics[: MAX_ERRORS - 1]
            raise SpecError([*kept, too_many_errors(kept[-1].location)])

    def step(self, blame: tuple[Location, str]) -> None:
        """One unrolled layer-list item (a repetition, a block call), whatever it produces."""
        self.steps += 1
        if self.steps > MAX_EXPANSION_STEPS:
            self.stop(
                f"the spec takes more than {MAX_EXPANSION_STEPS:,} expansion steps (nested "
                "repeats or block calls); refusing it",
                blame,
            )
        self.check_errors()

    def copied(self, count: int, blame: tuple[Location, str]) -> None:
        """``count`` YAML values copied into layers (fields, inputs, substituted payloads)."""
        self.values += count
        if self.values > MAX_EXPANDED_VALUES:
            self.stop(
                f"the spec expands to more than {MAX_EXPANDED_VALUES:,} values (large lists or "
                "many inputs, times repeat); refusing it",
                blame,
            )

    def copied_node(self, node: YNode, blame: tuple[Location, str]) -> None:
        """A whole bound value (a ``$param`` payload) copied into a layer."""
        self.copied(self.size(node), blame)

    def size(self, node: YNode) -> int:
        """The number of values in ``node``, computed once per node."""
        found = self.sizes.get(id(node))
        if found is not None:
            return found[1]
        if isinstance(node, YSeq):
            total = 1 + sum(self.size(item) for item in node.items)
        elif isinstance(node, YMap):
            total = 1 + sum(self.size(item) for item in node.items.values())
        else:
            total = 1
        self.sizes[id(node)] = (node, total)
        return total

    def stop(self, message: str, blame: tuple[Location, str]) -> NoReturn:
        """Refuse the spec: the problems so far, then this one."""
        where, path = blame
        raise SpecError([*self.diagnostics[: MAX_ERRORS - 1], Diagnostic(message, where, path)])
