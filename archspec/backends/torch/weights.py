"""PyTorch weights in the IR's layout: where each IR weight lives in the module, how its layout
differs from the IR's, the order of flattened features, and moving weights in and out.

The IR stores weights as Keras does (conv ``(kh, kw, in/g, out)``, dense ``(in, out)``,
depthwise ``(kh, kw, C, multiplier)``); PyTorch stores ``(out, in/g, kh, kw)``, ``(out, in)``
and ``(C * multiplier, 1, kh, kw)``. A dense fed by a channels-first flatten also has its input
rows in (C, H, W) order instead of (H, W, C). Only ``get_weights``/``set_weights`` touch torch
(through the model's state dict, imported lazily).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archspec.backends import BackendError, model_report
from archspec.ops.base import Weight
from archspec.ops.shapes import Shape
from archspec.passes.check import LayerReport, Report

if TYPE_CHECKING:
    import numpy as np
# NOTE: numpy is imported inside the functions that move arrays: generating source reads this
# module's key names and must work with only the core installed (`build --no-model`).
Weights = dict[str, list[Any]]

_KEYS = {
    "kernel": "weight",
    "depthwise": "weight",
    "bias": "bias",
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}
_SEPARABLE_KEYS = {
    "depthwise": "depthwise.weight",
    "pointwise": "pointwise.weight",
    "bias": "pointwise.bias",
}


# Ops whose module is a plain holder (nn.Module) keep the IR's weight names as keys.
_OWN_NAMES = frozenset({"layer_scale", "class_token", "position_embedding", "normalization"})
# nn.MultiheadAttention packs query, key and value into one (3D, D) matrix and (3D,) vector.
_ATTENTION_KEYS = {
    **{f"{p}_kernel": "in_proj_weight" for p in ("query", "key", "value")},
    **{f"{p}_bias": "in_proj_bias" for p in ("query", "key", "value")},
    "output_kernel": "out_proj.weight",
    "output_bias": "out_proj.bias",
}
_PACKED = {"query": 0, "key": 1, "value": 2}


def torch_key(kind: str, weight: str) -> str:
    """The state_dict key of an IR weight, relative to its node's module."""
    if kind == "separable_conv2d":
        return _SEPARABLE_KEYS[weight]
    if kind in _OWN_NAMES:
        return weight
    if kind == "multi_head_attention":
        return _ATTENTION_KEYS[weight]
    return _KEYS[weight]


def packed_rows(layer: LayerReport, weight: str) -> slice | None:
    """The rows of a packed tensor that hold this IR weight (attention's query/key/value)."""
    part = _PACKED.get(weight.rsplit("_", 1)[0]) if layer.kind == "multi_head_attention" else None
    if part is None:
        return None
    features = layer.input_shapes[0][-1]
    return slice(part * features, (part + 1) * features)


def key_text(layer: LayerReport, weight: str) -> str:
    """``torch_key`` with the packed rows as an index, for generated statements."""
    rows = packed_rows(layer, weight)
    index = f"[{rows.start}:{rows.stop}]" if rows is not None else ""
    return torch_key(layer.kind, weight) + index


def is_depthwise(kind: str, weight: str) -> bool:
    """Depthwise kernels: (kh, kw, C, m) in the IR, (C * m, 1, kh, kw) in PyTorch."""
    return weight == "depthwise"


def to_torch(
    layer: LayerReport, weight: Weight, value: np.ndarray, flat: Shape | None
) -> np.ndarray:
    """An IR-layout array in PyTorch's layout. ``flat``: the (H, W, C) shape a dense's input
    was flattened from in channels-first order, or None."""
    import numpy as np

    value = np.asarray(value)
    if layer.kind == "multi_head_attention":  # kernels (D, h, k) / (h, k, D) -> (out, in)
        if weight.name == "output_kernel":  # (h, k, D) -> (D, h * k)
            return value.reshape(-1, value.shape[-1]).T
        if value.ndim == 3:  # (D, h, k) -> (h * k, D)
            return value.reshape(value.shape[0], -1).T
        return value.reshape(-1)  # biases
    if is_depthwise(layer.kind, weight.name):
        *spatial, channels, multiplier = value.shape
        moved = np.moveaxis(value, (-2, -1), (0, 1))  # (C, m, kh, kw)
        return moved.reshape(channels * multiplier, 1, *spatial)
    if value.ndim < 2:
        return value
    if layer.kind == "dense":
        out = value.shape[1]
        if flat is not None:
            # rows are (h, w, c); PyTorch's flatten reads (c, h, w)
            value = np.moveaxis(value.reshape(*flat, out), -2, 0).reshape(-1, out)
        return value.T
    rank = value.ndim
    return value.transpose(rank - 1, rank - 2, *range(rank - 2))


def from_torch(
    layer: LayerReport, weight: Weight, value: np.ndarray, flat: Shape | None
) -> np.ndarray:
    """The inverse of ``to_torch``: a PyTorch-layout array in the IR's layout."""
    import numpy as np

    value = np.asarray(value)
    if layer.kind == "multi_head_attention":
        return (value.T if value.ndim == 2 else value).reshape(weight.shape)
    if is_depthwise(layer.kind, weight.name):
        *spatial, channels, multiplier = weight.shape
        grouped = value.reshape(channels, multiplier, *spatial)
        return np.moveaxis(grouped, (0, 1), (-2, -1))
    if value.ndim < 2:
        return value
    if layer.kind == "dense":
        kernel = value.T
        if flat is not None:
            out = kernel.shape[1]
            channels_first = (flat[-1], *flat[:-1], out)
            kernel = np.moveaxis(kernel.reshape(channels_first), 0, -2).reshape(-1, out)
        return kernel
    rank = value.ndim
    return value.transpose(*range(2, rank), 1, 0)


# -- flattened features --------------------------------------------------------------------
# Single-input ops that commute with any permutation of a flat feature vector.
FEATURE_PERMUTING = frozenset(
    {"dropout", "activation", "relu", "relu6", "gelu", "sigmoid", "tanh", "silu", "softmax"}
    | {"leaky_relu", "elu", "swish", "hard_sigmoid", "hard_swish"}
)


def _reached(report: Report, name: str, users: dict[str, list[str]]) -> list[str] | None:
    """Nodes from ``name``'s users up to the dense layers that end each path through
    feature-permuting ops, or None if a path ends anywhere else (the model output included)."""
    if name in report.graph.outputs:
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


# -- moving weights ---------------------------------------------------------------------------


def get_weights(model: Any, report: Report | None = None) -> Weights:
    """Node name -> its weights in IR layout and order, buffers (moving statistics) included."""
    report = model_report(model, report)
    state = model.state_dict()
    flattened = flatten_orders(report).dense
    found: Weights = {}
    for layer in report.layers:
        if not layer.weights:
            continue
        arrays = []
        for weight in layer.weights:
            key = f"{layer.name}.{torch_key(layer.kind, weight.name)}"
            if key not in state:
                raise BackendError(f"the torch module has no {key!r} for layer {layer.name!r}")
            value = state[key].detach().cpu().numpy()
            rows = packed_rows(layer, weight.name)
            if rows is not None:
                value = value[rows]
            arrays.append(from_torch(layer, weight, value, flattened.get(layer.name)))
        found[layer.name] = arrays
    return found


def set_weights(model: Any, report: Report | None, weights: Weights) -> None:
    """Load IR-layout weights (as ``get_weights`` returns them) into ``model``; every weighted
    node must be present with the IR's shapes, and no other name."""
    import numpy as np

    report = model_report(model, report)
    expected = {layer.name: layer for layer in report.layers if layer.weights}
    unknown, missing = sorted(set(weights) - set(expected)), sorted(set(expected) - set(weights))
    if unknown or missing:
        raise BackendError(
            f"weights do not match the spec: missing {missing or 'none'}, unknown {unknown or 'none'}"
        )
    import torch

    state = model.state_dict()
    flattened = flatten_orders(report).dense
    with torch.no_grad():
        for name, layer in expected.items():
            arrays = [np.asarray(a) for a in weights[name]]
            shapes = [tuple(a.shape) for a in arrays]
            if shapes != [w.shape for w in layer.weights]:
                raise BackendError(
                    f"layer {name!r}: weights give shapes {shapes}, the IR expects "
                    f"{[w.shape for w in layer.weights]}"
                )
            for weight, array in zip(layer.weights, arrays, strict=True):
                target = state[f"{name}.{torch_key(layer.kind, weight.name)}"]
                rows = packed_rows(layer, weight.name)
                if rows is not None:
                    target = target[rows]
                value = to_torch(layer, weight, array, flattened.get(name))
                if any(stride < 0 for stride in value.strides):  # from_numpy refuses these
                    value = value.copy()
                target.copy_(torch.from_numpy(value))
