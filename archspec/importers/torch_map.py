"""PyTorch (``torch.export`` ATen) ops -> archspec ops: one ``@mapping`` entry per op.

An entry reads one ATen call through ``Call``: its schema-named arguments (defaults filled in),
the shapes of its tensors (NCHW) and the parameter arrays it uses. It returns the archspec op,
its fields and its weights converted to the IR's layout (channels last, Keras's order), or
``None`` for an op that is the identity in inference (dropout, contiguous copies). The
channels-first -> channels-last rules live here: conv kernels ``(out, in, kh, kw)`` ->
``(kh, kw, in, out)``, linear ``(out, in)`` -> ``(in, out)`` (rows reordered from (c, h, w)
to (h, w, c) after a flatten of a feature map), concatenation dim 1 -> the channel axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from archspec.importers.model import Origin
from archspec.importers.table import mapping
from archspec.importers.transposed import transpose_fields

Result = tuple[str, dict[str, Any], list[Any]] | None


@dataclass
class Call:
    """One ATen call: arguments by schema name, tensor shapes (NCHW), parameter arrays."""

    args: dict[str, Any]
    shapes: dict[str, tuple[int, ...]]  # argument name -> shape, for tensor arguments
    arrays: dict[str, Any]  # argument name -> numpy value, for parameters and buffers
    output_shape: tuple[int, ...]
    origin: Origin
    flattened_from: tuple[int, ...] | None = None  # (C, H, W) when the input is a flat map
    tokens: bool = False  # the input is (N, L, D), features last (else channels first)
    tokens_out: bool | None = None  # set by an entry that changes the layout (a transpose)

    def refuse(self, message: str) -> Exception:
        return self.origin.error(message)


def _pair(value: Any) -> list[int]:
    value = list(value) if isinstance(value, list | tuple) else [value]
    return value * 2 if len(value) == 1 else value


def _int_or_pair(value: list[int]) -> Any:
    return value[0] if len(set(value)) == 1 else value


def conv_kernel(weight: np.ndarray) -> np.ndarray:
    """PyTorch ``(out, in/g, kh[, kw])`` -> the IR's ``(kh[, kw], in/g, out)``."""
    return np.moveaxis(weight, (0, 1), (-1, -2))


@mapping(
    "torch",
    "aten.conv2d",
    "aten.conv1d",
    "aten.convolution",
    ops="conv1d / conv2d / depthwise_conv2d",
    meaning="groups == in_channels == out_channels / m: depthwise with multiplier m",
)
def _conv(c: Call) -> Result:
    if c.args.get("transposed"):
        return _conv_transpose(c)
    weight, rank = c.arrays["weight"], len(c.shapes["input"]) - 2
    padding = c.args["padding"]
    if isinstance(padding, str):
        if padding == "same" and any(s != 1 for s in _pair(c.args["stride"])):
            raise c.refuse("padding='same' with stride > 1")
    else:
        padding = _int_or_pair(_pair(padding)) if rank == 2 else next(iter(padding))
    groups, channels = c.args["groups"], c.shapes["input"][1]
    fields = {
        "kernel_size": _int_or_pair(list(weight.shape[2:])),
        "strides": _int_or_pair(list(c.args["stride"])),
        "padding": padding,
        "dilation_rate": _int_or_pair(list(c.args["dilation"])),
        "use_bias": c.arrays.get("bias") is not None,
    }
    bias = [c.arrays["bias"]] if fields["use_bias"] else []
    if rank == 2 and groups == channels and groups > 1 and weight.shape[1] == 1:
        multiplier = weight.shape[0] // channels
        kernel = weight.reshape(channels, multiplier, *weight.shape[2:]).transpose(2, 3, 0, 1)
        return "depthwise_conv2d", {**fields, "depth_multiplier": multiplier}, [kernel, *bias]
    kind = "conv2d" if rank == 2 else "conv1d"
    fields = {"filters": weight.shape[0], **fields, "groups": groups}
    return kind, fields, [conv_kernel(weight), *bias]


@mapping(
    "torch",
    "aten.conv_transpose2d",
    ops="conv2d_transpose",
    meaning="padding/output_padding that give Keras's crops; groups 1",
)
def _conv_transpose(c: Call) -> Result:
    if c.args.get("groups", 1) != 1 or len(c.shapes["input"]) != 4:
        raise c.refuse("only ungrouped 2-D transposed convolutions map")
    padding, extra = _pair(c.args["padding"]), _pair(c.args["output_padding"])
    crops = [(p, p - o) for p, o in zip(padding, extra, strict=True)]
    return transpose_fields(
        c.arrays["weight"],
        c.arrays.get("bias"),
        tuple(c.shapes["input"][2:]),
        _pair(c.args["stride"]),
        _pair(c.args["dilation"]),
        crops,
        c.origin,
    )


def linear_kernel(weight: np.ndarray, flattened_from: tuple[int, ...] | None) -> np.ndarray:
    """PyTorch ``(out, in)`` -> the IR's ``(in, out)``; after a flatten of a ``(C, H, W)`` map
    the rows come in (c, h, w) order and the IR's flatten is (h, w, c): reorder them."""
    kernel = weight.T
    if flattened_from is not None and len(flattened_from) > 1:
        channels, *spatial = flattened_from
        kernel = kernel.reshape(channels, *spatial, -1)
        kernel = np.moveaxis(kernel, 0, -2).reshape(weight.shape[1], -1)
    return np.ascontiguousarray(kernel)


@mapping("torch", "aten.linear", ops="dense", meaning="weight (out, in) -> kernel (in, out)")
def _linear(c: Call) -> Result:
    weight = c.arrays["weight"]
    if len(c.shapes["input"]) == 3 and c.tokens:  # per position of a sequence
        bias = c.arrays.get("bias")
        fields = {"units": weight.shape[0], "use_bias": bias is not None}
        return (
            "dense",
            fields,
            [np.ascontiguousarray(weight.T), *([bias] if bias is not None else [])],
        )
    if len(c.shapes["input"]) != 2:
        raise c.refuse(
            f"linear on a rank-{len(c.shapes['input'])} input (archspec's dense takes a flat input)"
        )
    kernel = linear_kernel(weight, c.flattened_from)
    bias = c.arrays.get("bias")
    fields = {"units": weight.shape[0], "use_bias": bias is not None}
    return "dense", fields, [kernel, *([bias] if bias is not None else [])]


@mapping(
    "torch",
    "aten.batch_norm",
    "aten._native_batch_norm_legit_no_training",
    ops="batch_norm",
    meaning="eps and momentum made explicit (Keras momentum = 1 - torch's)",
)
def _batch_norm(c: Call) -> Result:
    if c.args.get("training"):
        raise c.refuse("batch norm in training mode: export the model in eval() mode")
    gamma, beta = c.arrays.get("weight"), c.arrays.get("bias")
    mean, var = c.arrays.get("running_mean"), c.arrays.get("running_var")
    if mean is None or var is None:
        raise c.refuse("batch norm without running statistics")
    if c.args.get("momentum") is None:
        raise c.refuse("momentum=None (a cumulative average) has no Keras form")
    fields = {
        "epsilon": float(c.args["eps"]),
        "momentum": round(1.0 - float(c.args["momentum"]), 12),
        "center": beta is not None,
        "scale": gamma is not None,
    }
    weights = [w for w in (gamma, beta) if w is not None] + [mean, var]
    return "batch_norm", fields, weights


@mapping("torch", "aten.layer_norm", ops="layer_norm", meaning="over the features of a flat input")
def _layer_norm(c: Call) -> Result:
    shape = c.shapes["input"]
    flat_or_tokens = len(shape) == 2 or (len(shape) == 3 and c.tokens)
    if not flat_or_tokens or list(c.args["normalized_shape"]) != [shape[-1]]:
        raise c.refuse("layer norm over other than the features of a flat input or sequence")
    gamma, beta = c.arrays.get("weight"), c.arrays.get("bias")
    fields = {
        "epsilon": float(c.args["eps"]),
        "center": beta is not None,
        "scale": gamma is not None,
    }
    return "layer_norm", fields, [w for w in (gamma, beta) if w is not None]


_ACTIVATIONS = {
    "aten.relu": "relu",
    "aten.relu_": "relu",
    "aten.sigmoid": "sigmoid",
    "aten.tanh": "tanh",
    "aten.silu": "silu",
    "aten.silu_": "silu",
    "aten.relu6": "relu6",
    "aten.hardswish": "hard_swish",
    "aten.hardswish_": "hard_swish",
    "aten.hardsigmoid": "hard_sigmoid",
    "aten.hardsigmoid_": "hard_sigmoid",
}


@mapping(
    "torch",
    *_ACTIVATIONS,
    ops=_ACTIVATIONS,
    meaning="elementwise activation",
)
def _activation(c: Call) -> Result:
    return _ACTIVATIONS[c.origin.cls], {}, []


@mapping("torch", "aten.hardtanh", "aten.hardtanh_", ops="relu6", meaning="hardtanh(0, 6) is relu6")
def _hardtanh(c: Call) -> Result:
    if (float(c.args["min_val"]), float(c.args["max_val"])) != (0.0, 6.0):
        raise c.refuse("hardtanh other than (0, 6) has no archspec form")
    return "relu6", {}, []


@mapping("torch", "aten.gelu", ops="gelu", meaning="exact (erf) form only")
def _gelu(c: Call) -> Result:
    if c.args.get("approximate", "none") != "none":
        raise c.refuse("tanh-approximated gelu has no archspec form")
    return "gelu", {}, []


@mapping("torch", "aten.leaky_relu", "aten.leaky_relu_", ops="leaky_relu", meaning="slope kept")
def _leaky(c: Call) -> Result:
    return "leaky_relu", {"negative_slope": float(c.args["negative_slope"])}, []


@mapping("torch", "aten.elu", "aten.elu_", ops="elu", meaning="alpha kept")
def _elu(c: Call) -> Result:
    if float(c.args.get("scale", 1)) != 1 or float(c.args.get("input_scale", 1)) != 1:
        raise c.refuse("scaled elu has no archspec form")
    return "elu", {"alpha": float(c.args["alpha"])}, []


@mapping("torch", "aten.softmax", "aten._softmax", ops="softmax", meaning="over channels (dim 1)")
def _softmax(c: Call) -> Result:
    if c.args["dim"] % len(c.shapes["self"]) != 1:
        raise c.refuse(f"softmax over dim {c.args['dim']}: archspec's runs over channels")
    return "softmax", {}, []


@mapping("torch", "aten.dropout", "aten.dropout_", ops="dropout", meaning="rate p")
def _dropout(c: Call) -> Result:
    return "dropout", {"rate": float(c.args["p"])}, []


@mapping(
    "torch",
    "aten.clone",
    "aten.contiguous",
    "aten.alias",
    "aten.detach",
    ops="(none)",
    meaning="identity: later layers read its input",
)
def _identity(c: Call) -> Result:
    return None


@mapping(
    "torch",
    "aten.max_pool2d",
    "aten.max_pool2d_with_indices",
    ops="max_pool2d",
    meaning="explicit padding pads -inf; ceil_mode -> rounding: ceil",
)
def _max_pool(c: Call) -> Result:
    if any(d != 1 for d in _pair(c.args["dilation"])):
        raise c.refuse("dilated max pooling has no archspec form")
    return "max_pool2d", _pool_fields(c), []


@mapping(
    "torch", "aten.avg_pool2d", ops="avg_pool2d", meaning="padded zeros counted (torch's default)"
)
def _avg_pool(c: Call) -> Result:
    if c.args.get("divisor_override") is not None:
        raise c.refuse("avg_pool2d with divisor_override has no archspec form")
    if not c.args.get("count_include_pad", True) and any(_pair(c.args["padding"])):
        raise c.refuse("avg_pool2d with count_include_pad=False and padding")
    return "avg_pool2d", _pool_fields(c), []


def _pool_fields(c: Call) -> dict[str, Any]:
    size = _pair(c.args["kernel_size"])
    strides = _pair(c.args["stride"]) if c.args["stride"] else size
    return {
        "pool_size": _int_or_pair(size),
        "strides": _int_or_pair(strides),
        "padding": _int_or_pair(_pair(c.args["padding"])),
        "rounding": "ceil" if c.args["ceil_mode"] else "floor",
    }


@mapping(
    "torch",
    "aten.adaptive_avg_pool2d",
    ops="global_avg_pool2d, adaptive_avg_pool2d",
    meaning="output 1x1 followed by flatten is a global average pool",
)
def _adaptive(c: Call) -> Result:
    size = _pair(c.args["output_size"])
    return "adaptive_avg_pool2d", {"output_size": _int_or_pair(size)}, []


@mapping("torch", "aten.mean", ops="global_avg_pool2d", meaning="mean over H and W")
def _mean(c: Call) -> Result:
    rank = len(c.shapes["self"])
    dims = sorted(d % rank for d in c.args["dim"])
    if rank != 4 or dims != [2, 3]:
        raise c.refuse(f"mean over dims {c.args['dim']}: only the spatial mean maps")
    if c.args.get("keepdim"):
        return "adaptive_avg_pool2d", {"output_size": 1}, []
    return "global_avg_pool2d", {}, []


@mapping(
    "torch",
    "aten.flatten",
    "aten.view",
    "aten.reshape",
    "aten._unsafe_view",
    ops="flatten, reshape",
    meaning="to (batch, features); (N, C, H, W) -> (N, C, H*W) is reshape to (H*W, C) tokens",
)
def _flatten(c: Call) -> Result:
    shape = c.shapes["self"] if "self" in c.shapes else c.shapes["input"]
    if len(shape) == 4 and c.output_shape == (*shape[:2], shape[2] * shape[3]):
        # (N, C, H, W) -> (N, C, H*W): channels first, so the spec's (H*W, C) tokens
        return "reshape", {"target_shape": [shape[2] * shape[3], shape[1]]}, []
    if len(c.output_shape) != 2 or c.output_shape[0] != shape[0]:
        raise c.refuse(
            f"reshape {shape} -> {c.output_shape}: only flattening to (batch, features) maps"
        )
    return ("flatten", {}, []) if len(shape) > 2 else None


@mapping(
    "torch",
    "aten.add",
    "aten.add_",
    "aten.mul",
    "aten.mul_",
    ops={"aten.add": "add", "aten.add_": "add", "aten.mul": "multiply", "aten.mul_": "multiply"},
    meaning="elementwise, same shapes",
)
def _elementwise(c: Call) -> Result:
    if float(c.args.get("alpha", 1)) != 1:
        raise c.refuse("add with alpha != 1")
    if "other" not in c.shapes:
        raise c.refuse("arithmetic with a constant has no archspec op yet")
    return ("add" if "add" in c.origin.cls else "multiply"), {}, []


@mapping("torch", "aten.cat", "aten.concat", ops="concatenate", meaning="dim 1 -> channel axis")
def _cat(c: Call) -> Result:
    rank = len(c.output_shape)
    dim = c.args["dim"] % rank
    if dim == 0:
        raise c.refuse("concatenation over the batch")
    axis = -1 if dim == 1 else dim - 2
    return "concatenate", {"axis": axis}, []


@mapping(
    "torch",
    "aten.constant_pad_nd",
    "aten.pad",
    ops="zero_padding2d",
    meaning="zeros around H and W",
)
def _pad(c: Call) -> Result:
    pads = list(c.args["pad"])
    if float(c.args.get("value") or 0) != 0 or len(pads) != 4 or min(pads) < 0:
        raise c.refuse(f"padding {pads} with value {c.args.get('value')}: only zero H/W padding")
    left, right, top, bottom = pads
    return "zero_padding2d", {"padding": [[top, bottom], [left, right]]}, []


@mapping(
    "torch",
    "aten.upsample_nearest2d",
    "aten.upsample_bilinear2d",
    ops="upsampling2d",
    meaning="integer scale factors; bilinear with align_corners=False",
)
def _upsample(c: Call) -> Result:
    if c.args.get("align_corners"):
        raise c.refuse("bilinear upsampling with align_corners=True has no archspec form")
    (height, width), (out_h, out_w) = c.shapes["input"][2:], c.output_shape[2:]
    if out_h % height or out_w % width:
        raise c.refuse(f"upsampling {height}x{width} -> {out_h}x{out_w} is not by integer factors")
    interpolation = "nearest" if "nearest" in c.origin.cls else "bilinear"
    size = _int_or_pair([out_h // height, out_w // width])
    return "upsampling2d", {"size": size, "interpolation": interpolation}, []
