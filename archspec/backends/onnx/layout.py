"""Weights and shapes between the IR's layout (Keras's, channels_last) and ONNX's (NCHW).

Convolution kernels become ``(out, in/groups, k...)`` as PyTorch stores them; depthwise kernels
``(C*m, 1, kh, kw)`` (output channel ``c*m + i``, Keras's order); dense kernels stay ``(in, out)``
for ``Gemm``; vectors stay as they are. ``from_onnx`` inverts ``to_onnx`` exactly.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


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
    if weight == "depthwise":
        return _depthwise_to(array)
    if weight in ("kernel", "pointwise") and kind != "dense":
        return _conv_to(array)
    return array


def from_onnx(kind: str, weight: str, array: Array, shape: tuple[int, ...]) -> Array:
    """The inverse of ``to_onnx``: back to IR layout ``shape``."""
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
