"""ONNX ops -> archspec ops: one ``@mapping`` entry per op type.

ONNX tensors are NCHW and its weights PyTorch's layout, so entries share the layout rules of
``torch_map`` (conv kernels, linear rows after a flatten); they read the node's attributes and
initializers through ``Node``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspec.importers.model import Origin
from archspec.importers.table import mapping
from archspec.importers.torch_map import Result, conv_kernel, linear_kernel
from archspec.importers.transposed import transpose_fields


@dataclass
class Node:
    """One ONNX node: attributes, input shapes (NCHW; None for constants), constant inputs."""

    attrs: dict[str, Any]
    shapes: list[tuple[int, ...] | None]
    constants: list[Any]  # per input: the numpy value of an initializer/constant, else None
    output_shape: tuple[int, ...]
    origin: Origin
    flattened_from: tuple[int, ...] | None = None

    def refuse(self, message: str) -> Exception:
        return self.origin.error(message)


def _int_or_pair(value: list[int]) -> Any:
    return value[0] if len(set(value)) == 1 else list(value)


def _pads(node: Node, rank: int) -> Any:
    """ONNX ``pads`` (begins then ends) -> archspec's explicit padding."""
    auto = node.attrs.get("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if auto == "VALID":
        return "valid"
    if auto not in ("NOTSET", ""):
        raise node.refuse(f"auto_pad={auto}")
    pads = list(node.attrs.get("pads", [0] * 2 * rank))
    begins, ends = pads[:rank], pads[rank:]
    if begins == ends:
        return _int_or_pair(begins) if rank == 2 else begins[0]
    return [[b, e] for b, e in zip(begins, ends, strict=True)]


@mapping(
    "onnx", "Conv", ops="conv1d / conv2d / depthwise_conv2d", meaning="NCHW kernels transposed"
)
def _conv(n: Node) -> Result:
    weight, bias = n.constants[1], n.constants[2] if len(n.constants) > 2 else None
    if weight is None:
        raise n.refuse("a convolution whose kernel is not a constant")
    rank, groups = weight.ndim - 2, int(n.attrs.get("group", 1))
    channels = n.shapes[0][1]
    fields = {
        "kernel_size": _int_or_pair(list(weight.shape[2:])),
        "strides": _int_or_pair(list(n.attrs.get("strides", [1] * rank))),
        "padding": _pads(n, rank),
        "dilation_rate": _int_or_pair(list(n.attrs.get("dilations", [1] * rank))),
        "use_bias": bias is not None,
    }
    extra = [bias] if bias is not None else []
    if rank == 2 and groups == channels and groups > 1 and weight.shape[1] == 1:
        multiplier = weight.shape[0] // channels
        kernel = weight.reshape(channels, multiplier, *weight.shape[2:]).transpose(2, 3, 0, 1)
        return "depthwise_conv2d", {**fields, "depth_multiplier": multiplier}, [kernel, *extra]
    kind = "conv2d" if rank == 2 else "conv1d"
    return (
        kind,
        {"filters": weight.shape[0], **fields, "groups": groups},
        [conv_kernel(weight), *extra],
    )


@mapping(
    "onnx",
    "ConvTranspose",
    ops="conv2d_transpose",
    meaning="pads/output_padding that give Keras's crops; group 1",
)
def _conv_transpose(n: Node) -> Result:
    weight, bias = n.constants[1], n.constants[2] if len(n.constants) > 2 else None
    auto = n.attrs.get("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if weight is None or weight.ndim != 4 or int(n.attrs.get("group", 1)) != 1:
        raise n.refuse("only ungrouped 2-D transposed convolutions with a constant kernel map")
    if auto not in ("NOTSET", "", "VALID") or "output_shape" in n.attrs:
        raise n.refuse(f"ConvTranspose with auto_pad={auto} or output_shape")
    pads = list(n.attrs.get("pads", [0, 0, 0, 0]))
    extra = list(n.attrs.get("output_padding", [0, 0]))
    crops = [(b, e - o) for b, e, o in zip(pads[:2], pads[2:], extra, strict=True)]
    strides = list(n.attrs.get("strides", [1, 1]))
    dilation = list(n.attrs.get("dilations", [1, 1]))
    return transpose_fields(
        weight, bias, tuple(n.shapes[0][2:]), strides, dilation, crops, n.origin
    )


@mapping(
    "onnx",
    "Resize",
    ops="upsampling2d",
    meaning="integer H/W factors: nearest (asymmetric, floor) or linear (half_pixel)",
)
def _resize(n: Node) -> Result:
    def text(key: str, default: str) -> str:
        value = n.attrs.get(key, default)
        return value.decode() if isinstance(value, bytes) else value

    mode, where = text("mode", "nearest"), text("coordinate_transformation_mode", "half_pixel")
    (height, width), (out_h, out_w) = n.shapes[0][2:], n.output_shape[2:]
    if len(n.shapes[0]) != 4 or n.output_shape[:2] != n.shapes[0][:2]:
        raise n.refuse("only resizing height and width maps")
    if out_h % height or out_w % width:
        raise n.refuse(f"resizing {height}x{width} -> {out_h}x{out_w} is not by integer factors")
    nearest = mode == "nearest" and (where, text("nearest_mode", "round_prefer_floor")) == (
        "asymmetric",
        "floor",
    )
    # PyTorch's pytorch_half_pixel differs from half_pixel only for an output of length 1
    linear = mode == "linear" and where in ("half_pixel", "pytorch_half_pixel")
    if not (nearest or linear) or int(n.attrs.get("antialias", 0)):
        raise n.refuse(
            f"Resize mode={mode}, coordinate_transformation_mode={where}: archspec's upsampling2d "
            "is nearest (asymmetric, floor) or bilinear (half_pixel)"
        )
    size = _int_or_pair([out_h // height, out_w // width])
    return "upsampling2d", {"size": size, "interpolation": "nearest" if nearest else "bilinear"}, []


@mapping("onnx", "Gemm", ops="dense", meaning="alpha = beta = 1, B transposed (torch's Linear)")
def _gemm(n: Node) -> Result:
    weight = n.constants[1]
    bias = n.constants[2] if len(n.constants) > 2 else None
    if weight is None or n.attrs.get("transA", 0) or float(n.attrs.get("alpha", 1)) != 1:
        raise n.refuse("Gemm other than x @ W^T + b with a constant W")
    if float(n.attrs.get("beta", 1)) != 1 and bias is not None:
        raise n.refuse("Gemm with beta != 1")
    weight = weight if n.attrs.get("transB", 0) else weight.T  # -> (out, in)
    kernel = linear_kernel(weight, n.flattened_from)
    fields = {"units": weight.shape[0], "use_bias": bias is not None}
    if bias is not None and bias.shape != (weight.shape[0],):
        raise n.refuse(f"Gemm bias of shape {bias.shape}")
    return "dense", fields, [kernel, *([bias] if bias is not None else [])]


@mapping("onnx", "BatchNormalization", ops="batch_norm", meaning="momentum kept in Keras's sense")
def _batch_norm(n: Node) -> Result:
    scale, bias, mean, var = n.constants[1:5]
    fields = {
        "epsilon": float(n.attrs.get("epsilon", 1e-5)),
        "momentum": float(n.attrs.get("momentum", 0.9)),
    }
    return "batch_norm", fields, [scale, bias, mean, var]


_ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hard_swish"}


@mapping("onnx", *_ACTIVATIONS, ops=_ACTIVATIONS, meaning="elementwise")
def _activation(n: Node) -> Result:
    return _ACTIVATIONS[n.origin.cls], {}, []


@mapping("onnx", "HardSigmoid", ops="hard_sigmoid", meaning="alpha 1/6, beta 1/2 (PyTorch's)")
def _hard_sigmoid(n: Node) -> Result:
    alpha, beta = float(n.attrs.get("alpha", 0.2)), float(n.attrs.get("beta", 0.5))
    if abs(alpha - 1 / 6) > 1e-6 or beta != 0.5:
        raise n.refuse(f"HardSigmoid(alpha={alpha}, beta={beta}): only relu6(x + 3) / 6 maps")
    return "hard_sigmoid", {}, []


@mapping("onnx", "Clip", ops="relu6", meaning="clip to [0, 6] is relu6")
def _clip(n: Node) -> Result:
    low = n.constants[1] if len(n.constants) > 1 else n.attrs.get("min")
    high = n.constants[2] if len(n.constants) > 2 else n.attrs.get("max")
    if low is None or high is None or (float(low), float(high)) != (0.0, 6.0):
        raise n.refuse(f"Clip({low}, {high}): only [0, 6] (relu6) maps")
    return "relu6", {}, []


@mapping("onnx", "LeakyRelu", ops="leaky_relu", meaning="alpha -> negative_slope")
def _leaky(n: Node) -> Result:
    return "leaky_relu", {"negative_slope": float(n.attrs.get("alpha", 0.01))}, []


@mapping("onnx", "Softmax", ops="softmax", meaning="over channels (axis 1)")
def _softmax(n: Node) -> Result:
    if int(n.attrs.get("axis", -1)) % len(n.shapes[0]) != 1:
        raise n.refuse("softmax over other than the channel axis")
    return "softmax", {}, []


@mapping(
    "onnx",
    "MaxPool",
    "AveragePool",
    ops="max_pool2d, avg_pool2d",
    meaning="explicit pads; ceil_mode -> rounding: ceil",
)
def _pool(n: Node) -> Result:
    size = list(n.attrs["kernel_shape"])
    if any(d != 1 for d in n.attrs.get("dilations", [1, 1])):
        raise n.refuse("dilated pooling")
    padding = _pads(n, 2)
    if (
        n.origin.cls == "AveragePool"
        and not n.attrs.get("count_include_pad", 0)
        and padding not in (0, "valid")
    ):
        raise n.refuse("AveragePool that does not count padded zeros")
    kind = "max_pool2d" if n.origin.cls == "MaxPool" else "avg_pool2d"
    fields = {
        "pool_size": _int_or_pair(size),
        "strides": _int_or_pair(list(n.attrs.get("strides", [1, 1]))),
        "padding": padding,
        "rounding": "ceil" if n.attrs.get("ceil_mode") else "floor",
    }
    return kind, fields, []


@mapping(
    "onnx",
    "GlobalAveragePool",
    ops="global_avg_pool2d",
    meaning="with the Flatten after it, one global pool (else adaptive_avg_pool2d to 1x1)",
)
def _global_avg(n: Node) -> Result:
    return "adaptive_avg_pool2d", {"output_size": 1}, []


@mapping(
    "onnx",
    "ReduceMean",
    ops="global_avg_pool2d",
    meaning="mean over H and W (keepdims: adaptive_avg_pool2d to 1x1)",
)
def _reduce_mean(n: Node) -> Result:
    axes = n.constants[1] if len(n.constants) > 1 and n.constants[1] is not None else None
    axes = list(n.attrs.get("axes", [])) if axes is None else [int(a) for a in axes]
    rank = len(n.shapes[0])
    if rank != 4 or sorted(a % rank for a in axes) != [2, 3]:
        raise n.refuse(f"ReduceMean over axes {axes}: only the spatial mean maps")
    if n.attrs.get("keepdims", 1):
        return "adaptive_avg_pool2d", {"output_size": 1}, []
    return "global_avg_pool2d", {}, []


@mapping("onnx", "GlobalMaxPool", ops="global_max_pool2d", meaning="then a flatten of (C, 1, 1)")
def _global_max(n: Node) -> Result:
    return "global_max_pool2d", {}, []


@mapping("onnx", "Flatten", "Reshape", ops="flatten", meaning="to (batch, features) only")
def _flatten(n: Node) -> Result:
    shape = n.shapes[0]
    if len(n.output_shape) != 2 or n.output_shape[0] != shape[0]:
        raise n.refuse(f"reshape {shape} -> {n.output_shape}: only flattening maps")
    return ("flatten", {}, []) if len(shape) > 2 else None


@mapping("onnx", "Add", "Mul", ops="add, multiply", meaning="elementwise, same shapes")
def _elementwise(n: Node) -> Result:
    if any(c is not None for c in n.constants) or len(set(n.shapes)) != 1:
        raise n.refuse("arithmetic with a constant or broadcasting has no archspec op yet")
    return ("add" if n.origin.cls == "Add" else "multiply"), {}, []


@mapping("onnx", "Concat", ops="concatenate", meaning="axis 1 -> channel axis")
def _concat(n: Node) -> Result:
    axis = int(n.attrs["axis"]) % len(n.output_shape)
    if axis == 0:
        raise n.refuse("concatenation over the batch")
    return "concatenate", {"axis": -1 if axis == 1 else axis - 2}, []


@mapping("onnx", "Dropout", "Identity", ops="(none)", meaning="identity in inference")
def _identity(n: Node) -> Result:
    return None


@mapping("onnx", "LRN", ops="local_response_norm", meaning="same form as PyTorch and Caffe")
def _lrn(n: Node) -> Result:
    fields = {
        "size": int(n.attrs["size"]),
        "alpha": float(n.attrs.get("alpha", 1e-4)),
        "beta": float(n.attrs.get("beta", 0.75)),
        "k": float(n.attrs.get("bias", 1.0)),
    }
    return "local_response_norm", fields, []
