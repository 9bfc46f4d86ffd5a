"""Which nodes can only output non-negative values (after a ReLU, a sigmoid, a softmax...).

A fact about values, not shapes, that lets a backend use a stock layer where it would otherwise
need a custom one: max pooling pads with -inf (PyTorch's rule), but over a non-negative input
zero padding gives the same maximum, since every window holds at least one real value (padding
never exceeds half the window). Keras then needs no custom layer (``ZeroPadding2D``).
"""

from __future__ import annotations

from archspec.ir.graph import Graph

# Activations whose outputs are never negative.
NON_NEGATIVE_FUNCTIONS = frozenset({"relu", "relu6", "sigmoid", "softmax", "hard_sigmoid"})
# Ops whose output is non-negative when every input is: they select, average, move, pad with
# zeros, add or multiply non-negative values (dropout only scales them up).
PRESERVING = frozenset(
    {
        "max_pool2d",
        "avg_pool2d",
        "global_avg_pool2d",
        "global_max_pool2d",
        "adaptive_avg_pool2d",
        "dropout",
        "flatten",
        "reshape",
        "zero_padding2d",
        "concatenate",
        "add",
        "multiply",
    }
)


def non_negative(graph: Graph) -> frozenset[str]:
    """Names of the nodes whose every output value is >= 0 (NaN aside), whatever the input."""
    found: set[str] = set()
    for node in graph.nodes:
        function = getattr(node.op, "function", None) or getattr(node.op, "activation", None)
        if function in NON_NEGATIVE_FUNCTIONS or (
            function is None
            and node.kind in PRESERVING
            and node.inputs
            and all(name in found for name in node.inputs)
        ):
            found.add(node.name)
    return frozenset(found)
