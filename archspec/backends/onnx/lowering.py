"""The ONNX lowering table: IR op kind -> ONNX nodes, NCHW like PyTorch.

Each IR node becomes one or more ONNX nodes; the last one outputs a value named exactly like
the IR node, and its weights become initializers named ``<node>.<weight>`` (IR weight names)
in ONNX layout (``weights.to_onnx``). Helper constants (pads, shapes, ones) are named
``<node>/<what>`` so that they are never mistaken for parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.backends import BackendError
from archspec.backends.onnx import resample, sequence
from archspec.backends.onnx.nodes import (
    Lower,
    Lowering,
    activation,
    then_activate,
    to_channels_last,
)
from archspec.backends.onnx.weights import channels_first_perm, onnx_pads
from archspec.passes.check import LayerReport

__all__ = ["LOWERINGS", "Lowering", "lower_layer"]


# -- lowerings, one per op kind ---------------------------------------------------------------------


def _window_attrs(op: Any, layer: LayerReport) -> dict[str, Any]:
    return {
        "kernel_shape": list(op._tuple("kernel_size")),
        "strides": list(op._tuple("strides")),
        "dilations": list(op._tuple("dilation_rate")),
        "pads": onnx_pads(op.pads(layer.input_shapes[0])),
    }


def lower_conv(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op = layer.node.op
    inputs = [x[0], lo.weight(layer, "kernel")]
    bias = lo.weight(layer, "bias")
    attrs = {**_window_attrs(op, layer), "group": op.groups}
    return then_activate(lo, layer, "Conv", inputs + ([bias] if bias else []), **attrs)


def lower_depthwise(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op = layer.node.op
    inputs = [x[0], lo.weight(layer, "depthwise")]
    bias = lo.weight(layer, "bias")
    attrs = {**_window_attrs(op, layer), "group": layer.input_shapes[0][-1]}
    return then_activate(lo, layer, "Conv", inputs + ([bias] if bias else []), **attrs)


def lower_separable(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op = layer.node.op
    attrs = {**_window_attrs(op, layer), "group": layer.input_shapes[0][-1]}
    depth = lo.emit(
        "Conv", [x[0], lo.weight(layer, "depthwise")], f"{layer.name}/depthwise", **attrs
    )
    inputs = [depth, lo.weight(layer, "pointwise")]
    bias = lo.weight(layer, "bias")
    return then_activate(lo, layer, "Conv", inputs + ([bias] if bias else []), kernel_shape=[1, 1])


def lower_dense(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    if len(layer.input_shapes[0]) == 2:
        return lower_dense_tokens(lo, layer, x)
    inputs = [x[0], lo.weight(layer, "kernel")]
    bias = lo.weight(layer, "bias")
    # NOTE: Gemm reads the IR's (in, out) kernel as it is; a (out, in) copy as PyTorch stores
    # it would only cost a slow transpose of the largest weights.
    return then_activate(lo, layer, "Gemm", inputs + ([bias] if bias else []))


def lower_dense_tokens(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """Dense on each token: features last, MatMul (+ bias), back, then the activation."""
    name = layer.name
    tokens = to_channels_last(lo, layer, x[0], 2)
    out = lo.emit("MatMul", [tokens, lo.weight(layer, "kernel")], f"{name}/matmul")
    bias = lo.weight(layer, "bias")
    if bias is not None:
        out = lo.emit("Add", [out, bias], f"{name}/biased")
    function = layer.node.op.activation
    moved = name if function is None else f"{name}/moved"
    out = lo.emit("Transpose", [out], moved, perm=channels_first_perm(3))
    return out if function is None else activation(lo, layer, function, out, name)


def lower_activation(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op = layer.node.op
    extra = {k: getattr(op, k) for k in ("negative_slope", "alpha") if hasattr(op, k)}
    return activation(lo, layer, op.function, x[0], layer.name, **extra)


def lower_identity(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    return lo.emit("Identity", [x[0]], layer.name)


def lower_flatten(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    # NOTE: Keras flattens in (h, w, c) order and the IR's dense kernels expect it; transposing
    # first keeps IR weights valid unchanged (the PyTorch backend permutes the kernel instead).
    shape = layer.input_shapes[0]
    if len(shape) < 2:
        return lo.emit("Identity", [x[0]], layer.name)
    source = x[0] if np.prod(shape[:-1]) == 1 else to_channels_last(lo, layer, x[0], len(shape))
    return lo.emit("Flatten", [source], layer.name, axis=1)


def lower_reshape(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """Reshape in channels_last order (as Keras does), between NCHW-style tensors."""
    source = to_channels_last(lo, layer, x[0], len(layer.input_shapes[0]))
    rank = len(layer.output_shape)
    target = lo.const(layer, "shape", np.array([0, *layer.node.op.target_shape], np.int64))
    if rank < 2:
        return lo.emit("Reshape", [source, target], layer.name)
    flat = lo.emit("Reshape", [source, target], f"{layer.name}/reshape")
    return lo.emit("Transpose", [flat], layer.name, perm=channels_first_perm(rank + 1))


def lower_batch_norm(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op = layer.node.op
    channels = layer.output_shape[-1]
    gamma = lo.weight(layer, "gamma") or lo.const(layer, "ones", np.ones(channels, np.float32))
    beta = lo.weight(layer, "beta") or lo.const(layer, "zeros", np.zeros(channels, np.float32))
    stats = [lo.weight(layer, "moving_mean"), lo.weight(layer, "moving_variance")]
    # ONNX's momentum has Keras's meaning (weight of the running value); inference ignores it.
    inputs = [x[0], gamma, beta, *stats]
    return lo.emit(
        "BatchNormalization", inputs, layer.name, epsilon=op.epsilon, momentum=op.momentum
    )


def lower_layer_norm(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """Normalise over channels: transpose them last when the tensor has spatial axes."""
    op = layer.node.op
    rank = len(layer.output_shape)
    channels = layer.output_shape[-1]
    gamma = lo.weight(layer, "gamma") or lo.const(layer, "ones", np.ones(channels, np.float32))
    beta = lo.weight(layer, "beta") or lo.const(layer, "zeros", np.zeros(channels, np.float32))
    source = to_channels_last(lo, layer, x[0], rank)
    out = layer.name if rank < 2 else f"{layer.name}/norm"
    normed = lo.emit("LayerNormalization", [source, gamma, beta], out, axis=-1, epsilon=op.epsilon)
    if rank < 2:
        return normed
    return lo.emit("Transpose", [normed], layer.name, perm=channels_first_perm(rank + 1))


def lower_lrn(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """ONNX's LRN op for odd sizes; spelled out (as PyTorch computes it) for even sizes.

    ONNX puts ``floor((size-1)/2)`` channels before the centre and PyTorch (and the IR)
    ``size // 2``: equal for odd sizes only, and onnxruntime accepts odd sizes only. For even
    sizes: square, zero-pad the channel axis (size//2 before, (size-1)//2 after), average over
    ``size`` channels, then ``x / (k + alpha * mean) ** beta``.
    """
    op = layer.node.op
    if op.size % 2:
        attrs = {"size": op.size, "alpha": op.alpha, "beta": op.beta, "bias": op.k}
        return lo.emit("LRN", [x[0]], layer.name, **attrs)
    rank = len(layer.output_shape) + 1  # with batch
    name = layer.name
    square = lo.emit("Mul", [x[0], x[0]], f"{name}/square")
    axis = lo.const(layer, "axis", np.array([1], np.int64))
    lifted = lo.emit("Unsqueeze", [square, axis], f"{name}/lifted")
    pads = [0] * (2 * (rank + 1))
    pads[2], pads[rank + 1 + 2] = op.size // 2, (op.size - 1) // 2
    padded = lo.emit(
        "Pad", [lifted, lo.const(layer, "pads", np.array(pads, np.int64))], f"{name}/padded"
    )
    window = [op.size] + [1] * (rank - 2)
    mean = lo.emit(
        "AveragePool", [padded], f"{name}/mean", kernel_shape=window, strides=[1] * len(window)
    )
    dropped = lo.emit("Squeeze", [mean, axis], f"{name}/window")
    scaled = lo.emit("Mul", [dropped, lo.scalar(layer, "alpha", op.alpha)], f"{name}/scaled")
    shifted = lo.emit("Add", [scaled, lo.scalar(layer, "k", op.k)], f"{name}/shifted")
    power = lo.emit("Pow", [shifted, lo.scalar(layer, "beta", op.beta)], f"{name}/divisor")
    return lo.emit("Div", [x[0], power], name)


def lower_pool(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op = layer.node.op
    size, strides = op.window()
    attrs: dict[str, Any] = {
        "kernel_shape": list(size),
        "strides": list(strides),
        "pads": onnx_pads(op.pads(layer.input_shapes[0])),
        "ceil_mode": int(op.rounding == "ceil"),
    }
    if layer.kind == "max_pool2d":
        return lo.emit("MaxPool", [x[0]], layer.name, **attrs)
    # 'same' follows TensorFlow (padding not counted), explicit pads PyTorch (zeros counted).
    attrs["count_include_pad"] = int(op.padding not in ("valid", "same"))
    return lo.emit("AveragePool", [x[0]], layer.name, **attrs)


def lower_global_pool(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op_type = "GlobalAveragePool" if layer.kind == "global_avg_pool2d" else "GlobalMaxPool"
    if layer.node.op.keepdims:
        return lo.emit(op_type, [x[0]], layer.name)
    pooled = lo.emit(op_type, [x[0]], f"{layer.name}/pool")
    return lo.emit("Flatten", [pooled], layer.name, axis=1)


def lower_adaptive(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    window = list(layer.node.op.window(layer.input_shapes[0]))
    return lo.emit("AveragePool", [x[0]], layer.name, kernel_shape=window, strides=window)


def lower_zero_padding(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    (top, bottom), (left, right) = layer.node.op.pads()
    pads = lo.const(layer, "pads", np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
    return lo.emit("Pad", [x[0], pads], layer.name, mode="constant")


def lifted(lo: Lowering, layer: LayerReport, x: list[str]) -> list[str]:
    """Inputs of lower rank gain their leading 1s (Keras aligns sizes at the right) before
    broadcasting NCHW-style: in channels-first order they go right after the channels.
    Equal ranks broadcast alike in either layout."""
    rank = len(layer.output_shape)
    found = []
    for index, (name, shape) in enumerate(zip(x, layer.input_shapes, strict=True)):
        if len(shape) < rank and rank > 1:
            axes = np.arange(2, 2 + rank - len(shape), dtype=np.int64)
            where = lo.const(layer, f"lift{index}_axes", axes)
            name = lo.emit("Unsqueeze", [name, where], f"{layer.name}/lift{index}")
        found.append(name)
    return found


def lower_add(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    return lo.emit("Sum", lifted(lo, layer, x), layer.name)


def lower_multiply(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    x = lifted(lo, layer, x)
    product = x[0]
    for index, other in enumerate(x[1:], start=1):
        last = index == len(x) - 1
        product = lo.emit(
            "Mul", [product, other], layer.name if last else f"{layer.name}/mul{index}"
        )
    return product


def lower_concatenate(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    rank = len(layer.output_shape)
    axis = layer.node.op.axis % rank  # channels_last axis, batch excluded
    onnx_axis = 1 if axis == rank - 1 else axis + 2
    return lo.emit("Concat", x, layer.name, axis=onnx_axis)


LOWERINGS: dict[str, Lower] = {
    "dense": lower_dense,
    "activation": lower_activation,
    **{
        kind: lower_activation
        for kind in ("relu", "relu6", "gelu", "sigmoid", "tanh", "silu", "softmax")
    },
    "leaky_relu": lower_activation,
    "elu": lower_activation,
    "dropout": lower_identity,
    "flatten": lower_flatten,
    "reshape": lower_reshape,
    "conv2d": lower_conv,
    "conv1d": lower_conv,
    "depthwise_conv2d": lower_depthwise,
    "separable_conv2d": lower_separable,
    "max_pool2d": lower_pool,
    "avg_pool2d": lower_pool,
    "global_avg_pool2d": lower_global_pool,
    "global_max_pool2d": lower_global_pool,
    "adaptive_avg_pool2d": lower_adaptive,
    "zero_padding2d": lower_zero_padding,
    "batch_norm": lower_batch_norm,
    "layer_norm": lower_layer_norm,
    "local_response_norm": lower_lrn,
    "add": lower_add,
    "multiply": lower_multiply,
    "concatenate": lower_concatenate,
    "swish": lower_activation,
    "hard_sigmoid": lower_activation,
    "hard_swish": lower_activation,
    **resample.LOWERINGS,
    **sequence.LOWERINGS,
}


def lower_layer(lo: Lowering, layer: LayerReport) -> None:
    """Lower one non-input layer, or raise BackendError naming what has no ONNX form."""
    lowering = LOWERINGS.get(layer.kind)
    if lowering is None:
        raise BackendError(f"op '{layer.kind}' ({layer.name}) has no ONNX lowering yet")
    lowering(lo, layer, list(layer.node.inputs))
