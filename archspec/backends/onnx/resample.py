"""ONNX rows for resampling and per-channel scaling: conv2d_transpose, upsampling2d,
cropping2d, rescaling, normalization, layer_scale (tensors NCHW, as in ``lowering``)."""

from __future__ import annotations

import numpy as np

from archspec.backends.onnx.nodes import Lowering, then_activate
from archspec.passes.check import LayerReport


def lower_conv_transpose(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """ConvTranspose keeps (before, after) off the full output; a negative after (Keras's zeros
    at the end) becomes output_padding."""
    op = layer.node.op
    crops = op.crops(layer.input_shapes[0])
    inputs = [x[0], lo.weight(layer, "kernel")]
    bias = lo.weight(layer, "bias")
    attrs = {
        "kernel_shape": list(op._pair("kernel_size")),
        "strides": list(op._pair("strides")),
        "dilations": list(op._pair("dilation_rate")),
        "pads": [b for b, _ in crops] + [max(a, 0) for _, a in crops],
        "output_padding": [max(-a, 0) for _, a in crops],
    }
    return then_activate(lo, layer, "ConvTranspose", inputs + ([bias] if bias else []), **attrs)


def _tent(factor: int) -> tuple[np.ndarray, int]:
    """Bilinear upsampling by ``factor`` with half-pixel centres as a transposed-conv kernel
    (length 2 * factor) over an edge-padded axis, and the outputs to skip at the start."""
    start = (3 * factor) // 2
    taps = np.arange(2 * factor, dtype=np.float64)
    kernel = np.maximum(0.0, 1.0 - np.abs((taps - start + 0.5 + factor / 2) / factor))
    return kernel, start


def lower_upsampling(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """A depthwise ConvTranspose with a fixed kernel (ONNX's Resize would lose the symbolic
    batch size in shape inference): ones repeat each pixel (nearest); over an edge-padded
    input, tent kernels interpolate with half-pixel centres, clamped at the borders, as
    Keras's resize and PyTorch's interpolate(align_corners=False) do (bilinear)."""
    op, name = layer.node.op, layer.name
    factors = (op.size, op.size) if isinstance(op.size, int) else tuple(op.size)
    channels = layer.input_shapes[0][-1]
    attrs: dict[str, object] = {"strides": list(factors), "group": channels}
    if op.interpolation == "nearest":
        kernel = np.ones(factors, np.float32)
        source = x[0]
    else:
        (rows, top), (cols, left) = _tent(factors[0]), _tent(factors[1])
        kernel = np.outer(rows, cols).astype(np.float32)
        pads = lo.const(layer, "edge_pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))
        source = lo.emit("Pad", [x[0], pads], f"{name}/edge", mode="edge")
        ends = [3 * factors[0] - top, 3 * factors[1] - left]
        attrs["pads"] = [top, left, *ends]
    weights = lo.const(layer, "kernel", np.broadcast_to(kernel, (channels, 1, *kernel.shape)))
    return lo.emit("ConvTranspose", [source, weights], name, **attrs)


def lower_cropping(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    (top, bottom), (left, right) = layer.node.op.crops()
    height, width = layer.input_shapes[0][:2]
    starts = lo.const(layer, "starts", np.array([top, left], np.int64))
    ends = lo.const(layer, "ends", np.array([height - bottom, width - right], np.int64))
    axes = lo.const(layer, "axes", np.array([2, 3], np.int64))
    return lo.emit("Slice", [x[0], starts, ends, axes], layer.name)


def per_channel(lo: Lowering, layer: LayerReport, what: str, value: object) -> str:
    """A float32 constant that broadcasts over an NCHW-style tensor: a scalar, or (C, 1, ...)."""
    rank = len(layer.input_shapes[0])
    array = np.asarray(value, np.float32)
    if array.ndim and rank > 1:
        array = array.reshape(-1, *([1] * (rank - 1)))
    return lo.const(layer, what, array)


def channel_view(lo: Lowering, layer: LayerReport, weight: str) -> str:
    """A per-channel weight reshaped to broadcast over an NCHW-style tensor."""
    rank = len(layer.input_shapes[0])
    shape = lo.const(layer, f"{weight}_shape", np.array([-1, *([1] * (rank - 1))], np.int64))
    return lo.emit("Reshape", [lo.weight(layer, weight), shape], f"{layer.name}/{weight}")


def lower_rescaling(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op = layer.node.op
    scale = per_channel(lo, layer, "scale", op.scale)
    if op.offset == 0:
        return lo.emit("Mul", [x[0], scale], layer.name)
    scaled = lo.emit("Mul", [x[0], scale], f"{layer.name}/scaled")
    return lo.emit("Add", [scaled, per_channel(lo, layer, "offset", op.offset)], layer.name)


def lower_normalization(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """``(x - mean) / max(sqrt(variance), 1e-7)``, Keras's form, in float32 as Keras."""
    op, name = layer.node.op, layer.name
    if op.mean is not None:
        root = np.maximum(np.sqrt(np.asarray(op.variance, np.float32)), np.float32(1e-7))
        centred = lo.emit("Sub", [x[0], per_channel(lo, layer, "mean", op.mean)], f"{name}/sub")
        return lo.emit("Div", [centred, per_channel(lo, layer, "root", root)], name)
    lo.weight(layer, "count")  # carried for transfer_weights; the function does not read it
    mean, variance = channel_view(lo, layer, "mean"), channel_view(lo, layer, "variance")
    root = lo.emit("Sqrt", [variance], f"{name}/sqrt")
    floor = lo.scalar(layer, "epsilon", 1e-7)
    divisor = lo.emit("Max", [root, floor], f"{name}/divisor")
    centred = lo.emit("Sub", [x[0], mean], f"{name}/sub")
    return lo.emit("Div", [centred, divisor], name)


def lower_layer_scale(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    return lo.emit("Mul", [x[0], channel_view(lo, layer, "gamma")], layer.name)


LOWERINGS = {
    "conv2d_transpose": lower_conv_transpose,
    "upsampling2d": lower_upsampling,
    "cropping2d": lower_cropping,
    "rescaling": lower_rescaling,
    "normalization": lower_normalization,
    "layer_scale": lower_layer_scale,
}
