"""Blocks with several inputs and specs with several outputs.

A block may declare named inputs (``inputs: [x, skip]``); a call then passes as many layers
with ``inputs: [a, b]``, in order, and the block's chain starts from the first. A block without
the declaration has one input, ``input``, which a call takes from the chain or from
``inputs: [a]``. A spec may name several outputs (``outputs: [logits, aux]``): every layer that
feeds one of them is alive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from archspec.diagnostics import Diagnostic, Location, did_you_mean
from archspec.frontend.names import name_problem
from archspec.frontend.source import YMap, YNode, YScalar, YSeq


# What this module needs of the expander (``frontend/expand.py`` imports this module, so it
# is described here rather than imported).
class _Scope(Protocol):
    input_uid: int | None
    names: dict[str, int]
    implicit_input: bool


class Expander(Protocol):
    def error(self, message: str, where: Location, path: str = "", hint: str = "") -> None: ...

    def substitute(self, node: YNode, env: dict[str, YNode], path: str) -> YNode: ...


class Entry(Protocol):
    inputs: list[int]


def block_inputs(block: str, definition: YMap) -> tuple[list[str] | None, list[Diagnostic]]:
    """The declared input names of a block (None: the one implicit ``input``), and problems."""
    node = definition.get("inputs")
    if node is None:
        return None, []
    path = f"blocks.{block}.inputs"
    items = node.items if isinstance(node, YSeq) else []
    names: list[str] = []
    problems: list[Diagnostic] = []
    for index, item in enumerate(items):
        value = item.value if isinstance(item, YScalar) else None
        problem = name_problem(value)
        if problem is None and value in names:
            problem = f"input '{value}' is declared twice"
        if problem is None and value == "input":
            problem = "a block with named inputs has no 'input': name each one"
        if problem:
            problems.append(Diagnostic(problem, item.location, f"{path}[{index}]"))
        names.append(value)  # type: ignore[arg-type]
    return names, problems


def call_sources(
    expander: Expander,
    block: str,
    declared: list[str] | None,
    item: YMap,
    env: dict[str, YNode],
    scope: _Scope,
    path: str,
    previous: int | None,
) -> list[int] | None:
    """The entries a block call reads, one per block input, or None (reported).

    A call's ``inputs:`` may only name layers written before it (or the scope's input): the
    block's layers are expanded at the call, so what they read must already exist.
    """
    where = item.key_locations[block]
    wanted = declared or ["input"]
    takes = f"block '{block}' takes {len(wanted)} input{'s' if len(wanted) > 1 else ''}"
    takes += f" ({', '.join(wanted)})" if declared else ""
    refs = item.get("inputs")
    if refs is None:
        if len(wanted) > 1:
            expander.error(f"{takes}: pass them with 'inputs: [...]'", where, path)
            return None
        if previous is None:
            expander.error(f"{takes}: it is first and the scope has none", where, path)
            return None
        return [previous]
    refs = expander.substitute(refs, env, f"{path}.inputs")
    ref_items = refs.items if isinstance(refs, YSeq) else [refs]
    if len(ref_items) != len(wanted):
        expander.error(f"{takes}, got {len(ref_items)}", refs.location, f"{path}.inputs")
        return None
    sources: list[int] = []
    for index, ref in enumerate(ref_items):
        ref_path = f"{path}.inputs[{index}]"
        name = ref.value if isinstance(ref, YScalar) else None
        if not isinstance(name, str):
            expander.error("inputs must be a list of layer names", ref.location, ref_path)
            continue
        target = resolve(scope, name)
        if target is None:
            hint = unknown_input_hint(scope, name) or "a block call reads layers written before it"
            expander.error(f"unknown input '{name}'", ref.location, ref_path, hint)
            continue
        sources.append(target)
    return sources if len(sources) == len(wanted) else None


def resolve(scope: _Scope, name: str) -> int | None:
    """The entry a local name refers to: a layer, a declared input, or the implicit input."""
    if name in scope.names:
        return scope.names[name]
    return scope.input_uid if name == "input" and scope.implicit_input else None


def unknown_input_hint(scope: _Scope, name: str) -> str:
    """A hint for an ``inputs:`` ref that names nothing in ``scope``."""
    if name == "input" and not scope.implicit_input:
        return "this block names its inputs: use one of those names"
    return did_you_mean(name, [*scope.names, *(["input"] if scope.implicit_input else [])])


def output_uids(expander: Expander, root: YMap, names: dict[str, int], default: int) -> list[int]:
    """The output entries: ``outputs: [...]``, ``output: name`` or the last layer."""
    single, several = root.get("output"), root.get("outputs")
    if single is not None and several is not None:
        expander.error(
            "give either 'output' or 'outputs', not both", root.key_locations["outputs"], "outputs"
        )
        return [default]
    if several is None and single is None:
        return [default]
    refs = several.items if isinstance(several, YSeq) else [single]  # type: ignore[list-item]
    base = "outputs" if several is not None else "output"
    found: list[int] = []
    for index, ref in enumerate(refs):
        path = f"{base}[{index}]" if several is not None else base
        name: str = ref.value  # type: ignore[union-attr]  (the header checked: strings)
        if name not in names:
            hint = did_you_mean(name, names)
            expander.error(f"unknown output '{name}'", ref.location, path, hint)  # type: ignore[union-attr]
        elif names[name] in found:
            expander.error(f"output '{name}' is listed twice", ref.location, path)  # type: ignore[union-attr]
        elif names[name] == 0 and several is not None:
            expander.error("the input cannot be an output", ref.location, path)  # type: ignore[union-attr]
        else:
            found.append(names[name])
    return found or [default]


def alive(outputs: list[int], entries: Sequence[Entry]) -> set[int]:
    """Every entry that feeds one of the outputs (the outputs included)."""
    seen = set(outputs)
    stack = list(outputs)
    while stack:
        for source in entries[stack.pop()].inputs:
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return seen
