"""Weights and shapes between the IR's layout (Keras's, channels_last) and ONNX's (NCHW).

Convolution kernels become ``(out, in/groups, k...)`` as PyTorch stores them; depthwise kernels
``(C*m, 1, kh, kw)`` (output channel ``c*m + i``, Keras's order); dense kernels stay ``(in, out)``
for ``Gemm``; vectors stay as they are. ``from_onnx`` inverts ``to_onnx`` exactly.
"""

from __future__ import annotations

import re

import numpy as np
import onnx
from onnx import numpy_helper

from archspec.backends import BackendError
from archspec.passes.check import Report

Array = np.ndarray
Weights = dict[str, list[np.ndarray]]
# Initializers that are not trainable (BatchNorm's moving statistics, Normalization's state).
FROZEN = (".moving_mean", ".moving_variance", ".mean", ".variance", ".count")
_WEIGHT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\.[a-z_]+$")


def _conv_to(array: Array) -> Array:  # (k..., in/g, out) -> (out, in/g, k...)
    rank = array.ndim
    return np.transpose(array, (rank - 1, rank - 2, *range(rank - 2)))


def _conv_from(array: Array) -> Array:  # (out, in/g, k...) -> (k..., in/g, out)
    rank = array.ndim
    return np.transpose(array, (*range(2, rank), 1, 0))


def _depthwise_to(array: Array) -> Array:  # (kh, kw, C, m) -> (C*m, 1, kh, kw), channel c*m+i
    kh, kw, channels, mult = array.shape
    return np.transpose(array.reshape(kh, kw, channels * mult), (2, 0, 1))[:, None]


def _depthwise_from(array: Array, shape: tuple[int, ...]) -> Array:
    return np.transpose(array[:, 0], (1, 2, 0)).reshape(shape)


def to_onnx(kind: str, weight: str, array: Array) -> Array:
    """An IR-layout weight in the layout its ONNX initializer holds."""
    if kind == "multi_head_attention":  # MatMul operands
        if weight == "output_kernel":  # (h, k, D) -> (h * k, D)
            return array.reshape(-1, array.shape[-1])
        if array.ndim == 3:  # (D, h, k) -> (D, h * k)
            return array.reshape(array.shape[0], -1)
        return array.reshape(-1)  # biases (h, k) -> (h * k,)
    if kind == "position_embedding":  # (L, D) -> (D, L), as the tensor is (N, D, L)
        return array.T
    if weight == "depthwise":
        return _depthwise_to(array)
    if weight in ("kernel", "pointwise") and kind != "dense":
        return _conv_to(array)
    return array


def from_onnx(kind: str, weight: str, array: Array, shape: tuple[int, ...]) -> Array:
    """The inverse of ``to_onnx``: back to IR layout ``shape``."""
    if kind == "multi_head_attention":
        return array.reshape(shape)
    if kind == "position_embedding":
        return array.T
    if weight == "depthwise":
        return _depthwise_from(array, shape)
    if weight in ("kernel", "pointwise") and kind != "dense":
        return _conv_from(array)
    return array


def channels_last_perm(rank: int) -> list[int]:
    """NCHW-style -> NHWC-style permutation for a tensor of ``rank`` dims (batch included)."""
    return [0, *range(2, rank), 1]


def channels_first_perm(rank: int) -> list[int]:
    return [0, rank - 1, *range(1, rank - 1)]


def cf_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A channels_last IR shape (batch excluded) in channels_first order."""
    return shape if len(shape) < 2 else (shape[-1], *shape[:-1])


def onnx_pads(pads: tuple[tuple[int, int], ...]) -> list[int]:
    """IR ((before, after), ...) per spatial axis -> ONNX [b1, b2, ..., e1, e2, ...]."""
    return [p[0] for p in pads] + [p[1] for p in pads]


def parameters(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    """The initializers that hold IR weights (``<node>.<weight>``), not helper constants."""
    return {t.name: t for t in model.graph.initializer if _WEIGHT_NAME.match(t.name)}


def get_weights(model: onnx.ModelProto, report: Report) -> dict[str, list[np.ndarray]]:
    """Every layer's weights in IR layout and order (as the other backends return them)."""
    found = parameters(model)
    out: dict[str, list[np.ndarray]] = {}
    for layer in report.layers:
        arrays = []
        for weight in layer.weights:
            tensor = found.get(f"{layer.name}.{weight.name}")
            if tensor is None:
                raise BackendError(f"the ONNX model has no initializer {layer.name}.{weight.name}")
            array = numpy_helper.to_array(tensor)
            arrays.append(from_onnx(layer.kind, weight.name, array, weight.shape).copy())
        if arrays:
            out[layer.name] = arrays
    return out


def set_weights(model: onnx.ModelProto, report: Report, weights: Weights) -> None:
    """Replace the model's weights, in place, by IR-layout ``weights`` (every weighted layer)."""
    missing = [layer.name for layer in report.layers if layer.weights and layer.name not in weights]
    if missing:
        raise BackendError(f"no weights given for {', '.join(missing[:5])}")
    found = parameters(model)
    for layer in report.layers:
        for weight, array in zip(layer.weights, weights.get(layer.name, []), strict=True):
            name = f"{layer.name}.{weight.name}"
            array = np.asarray(array, dtype=np.float32)
            if name not in found:
                raise BackendError(f"the ONNX model has no initializer {name}")
            if array.shape != weight.shape:
                raise BackendError(f"{name}: expected shape {weight.shape}, got {array.shape}")
            value = to_onnx(layer.kind, weight.name, array)
            found[name].CopyFrom(numpy_helper.from_array(value, name))
