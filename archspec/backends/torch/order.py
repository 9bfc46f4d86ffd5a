"""The order of flattened features: PyTorch's (C, H, W) where only dense layers read them, the
spec's (H, W, C) elsewhere. Generated code, weight layouts and ``archspec verify`` all ask here.
"""

from __future__ import annotations

from dataclasses import dataclass

from archspec.ops.shapes import Shape
from archspec.passes.check import Report

# Single-input ops that commute with any permutation of a flat feature vector.
FEATURE_PERMUTING = frozenset(
    {"dropout", "activation", "relu", "relu6", "gelu", "sigmoid", "tanh", "silu", "softmax"}
    | {"leaky_relu", "elu"}
)


def _reached(report: Report, name: str, users: dict[str, list[str]]) -> list[str] | None:
    """Nodes from ``name``'s users up to the dense layers that end each path through
    feature-permuting ops, or None if a path ends anywhere else (the model output included)."""
    if name == report.graph.output:
        return None
    found = []
    for user in users[name]:
        kind = report.graph.node(user).kind
        further = [] if kind == "dense" else None
        if kind in FEATURE_PERMUTING:
            further = _reached(report, user, users)
        if further is None:
            return None
        found += [user, *further]
    return found or None


@dataclass(frozen=True)
class FlattenOrders:
    """Which flattens keep PyTorch's (C, H, W) order, and what that order reaches."""

    flattens: frozenset[str]  # flatten nodes that flatten NCHW
    permuted: dict[str, Shape]  # node -> (H, W, C) its features are a (C, H, W) flatten of
    dense: dict[str, Shape]  # dense fed by such a flatten -> the (H, W, C) shape


def flatten_orders(report: Report) -> FlattenOrders:
    """Decide the order of every flatten.

    A flatten whose values only reach dense layers (through dropout or activations) flattens
    NCHW, as hand-written PyTorch does; those dense kernels are then stored with their rows
    permuted. Any other flatten moves channels last first, so that it computes the IR's
    channels_last function.
    """
    users = report.graph.consumers()
    flattens, permuted, dense = set(), {}, {}
    for layer in report.layers:
        if layer.kind != "flatten" or len(layer.input_shapes[0]) < 2:
            continue
        reached = _reached(report, layer.name, users)
        if reached:
            shape = layer.input_shapes[0]
            flattens.add(layer.name)
            permuted[layer.name] = shape
            for name in reached:
                target = dense if report.graph.node(name).kind == "dense" else permuted
                target[name] = shape
    return FlattenOrders(frozenset(flattens), permuted, dense)
