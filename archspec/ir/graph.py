"""The IR: an immutable graph of named nodes, each an op with every attribute resolved.

Nodes are stored in topological order; ``inputs`` name earlier nodes. Nothing here imports a
framework or a serialization library: passes and backends read the IR, they never extend it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archspec.diagnostics import Location
from archspec.ir.names import name_problem
from archspec.ops.base import Op


@dataclass(frozen=True)
class Source:
    """Where a node was written: its location, spec path, and each field's location."""

    location: Location
    path: str
    field_locations: Mapping[str, Location] = field(default_factory=dict)

    def locate(self, field_name: str | None) -> Location:
        """The location of a field (dotted for nested ones), falling back to the node's own."""
        if field_name:
            parts = field_name.split(".")
            for end in range(len(parts), 0, -1):
                found = self.field_locations.get(".".join(parts[:end]))
                if found is not None:
                    return found
        return self.location


@dataclass(frozen=True)
class Node:
    """One layer: a unique name, its op (validated, defaults filled in) and its inputs.

    ``param_refs`` maps a field path (``units``, ``kernel_regularizer.l2``) to the spec param
    whose value it holds, so generated code can keep ``n_classes`` symbolic.
    """

    name: str
    op: Op
    inputs: tuple[str, ...]
    source: Source
    param_refs: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.op.kind


@dataclass(frozen=True)
class Graph:
    """A whole network: nodes in topological order, one input node, its output nodes.

    ``output`` is the first (often only) output; ``outputs`` lists every one, in the order the
    backends return them (a spec's ``outputs: [a, b]``).
    """

    name: str
    doc: str
    nodes: tuple[Node, ...]
    output: str
    params: Mapping[str, Any]
    filename: str = "<spec>"
    # The spec text and overrides it was loaded from, so passes can re-derive it with other
    # param values (generated code uses this to find which params may stay function arguments).
    source_text: str = field(default="", repr=False, compare=False)
    overrides: Mapping[str, Any] = field(default_factory=dict, compare=False)
    outputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {node.name: node for node in self.nodes})
        if not self.outputs:
            object.__setattr__(self, "outputs", (self.output,))
        require_valid(self)  # a graph built by hand, or rebuilt with a renamed node, included

    def node(self, name: str) -> Node:
        return self._by_name[name]  # type: ignore[attr-defined]

    @property
    def input(self) -> Node:
        return self.nodes[0]

    def consumers(self) -> dict[str, list[str]]:
        """Node name -> names of the nodes that read it."""
        users: dict[str, list[str]] = {node.name: [] for node in self.nodes}
        for node in self.nodes:
            for name in node.inputs:
                users[name].append(node.name)
        return users

    def __repr__(self) -> str:  # the dataclass's would print every node
        return f"<Graph {self.name!r}: {len(self.nodes) - 1} layers, outputs {list(self.outputs)}>"

    def _repr_html_(self) -> str:
        """Jupyter's display: the checked summary table (see archspec.display.html)."""
        from archspec.display.html import graph_html

        return graph_html(self)


class GraphError(ValueError):
    """An IR graph that breaks an invariant: built by hand, or changed after loading."""


def require_valid(graph: Graph) -> None:
    """Raise GraphError unless ``graph`` keeps every invariant (names, edges, outputs).

    Generated code is written from node names, so the public entry points run this on any
    graph they are given, not only on graphs they loaded themselves.
    """
    problems = validate(graph)
    if problems:
        shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        raise GraphError(f"invalid IR graph: {shown}")


def validate(graph: Graph) -> list[str]:
    """Invariant check (like torch.fx's ``Graph.lint``): returns the broken invariants, if any."""
    problems = [f"graph name: {p}" for p in [name_problem(graph.name)] if p]
    if not isinstance(graph.nodes, tuple) or not graph.nodes:
        return [*problems, "nodes must be a non-empty tuple of Node"]
    seen: set[str] = set()
    for index, node in enumerate(graph.nodes):
        if not isinstance(node, Node) or not isinstance(node.op, Op):
            problems.append(f"node {index} is not a Node holding an op")
            continue
        problem = name_problem(node.name)
        if problem:
            problems.append(f"node {index}: {problem}")
        if not isinstance(node.inputs, tuple) or not all(isinstance(i, str) for i in node.inputs):
            problems.append(f"node {node.name!r}: inputs must be a tuple of node names")
            continue
        if node.name in seen:
            problems.append(f"duplicate node name {node.name!r}")
        if (index == 0) != (node.kind == "input"):
            problems.append(f"node {node.name!r}: exactly the first node must be the input")
        for name in node.inputs:
            if name not in seen:
                problems.append(f"node {node.name!r} reads {name!r} before it is defined")
        seen.add(node.name)
    for output in graph.outputs:
        if output not in seen:
            problems.append(f"output {output!r} is not a node")
    if graph.outputs[0] != graph.output or len(set(graph.outputs)) != len(graph.outputs):
        problems.append(
            f"outputs {graph.outputs!r} must be distinct and start with {graph.output!r}"
        )
    return problems
