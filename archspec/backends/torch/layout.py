"""Where each IR weight lives in a PyTorch module and how its layout differs from the IR's.

The IR stores weights as Keras does (conv ``(kh, kw, in/g, out)``, dense ``(in, out)``,
depthwise ``(kh, kw, C, multiplier)``); PyTorch stores ``(out, in/g, kh, kw)``, ``(out, in)``
and ``(C * multiplier, 1, kh, kw)``. A dense fed by a channels-first flatten also has its input
rows in (C, H, W) order instead of (H, W, C). Pure numpy: no torch import.
"""

from __future__ import annotations

import numpy as np

from archspec.ops.base import Weight
from archspec.ops.shapes import Shape
from archspec.passes.check import LayerReport

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


def torch_key(kind: str, weight: str) -> str:
    """The state_dict key of an IR weight, relative to its node's module."""
    if kind == "separable_conv2d":
        return _SEPARABLE_KEYS[weight]
    return _KEYS[weight]


def is_depthwise(kind: str, weight: str) -> bool:
    """Depthwise kernels: (kh, kw, C, m) in the IR, (C * m, 1, kh, kw) in PyTorch."""
    return weight == "depthwise"


def to_torch(
    layer: LayerReport, weight: Weight, value: np.ndarray, flat: Shape | None
) -> np.ndarray:
    """An IR-layout array in PyTorch's layout. ``flat``: the (H, W, C) shape a dense's input
    was flattened from in channels-first order, or None."""
    value = np.asarray(value)
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
    value = np.asarray(value)
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
