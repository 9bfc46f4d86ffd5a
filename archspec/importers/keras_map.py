"""Keras layer classes -> archspec ops: one ``@mapping`` entry per class.

An entry reads a layer's ``config.json`` entry through ``Config`` (``keras_config``), which
tracks the keys read: a key left unread with a non-default value is refused (a constraint,
``data_format``, an unknown option), so nothing a layer does is silently dropped. Weights need
no entry: Keras's layout and order are the IR's.
"""

from __future__ import annotations

from typing import Any

from archspec.importers.keras_config import (
    Config,
    activation,
    initializer,
    regularizer,
    window,
    with_weights,
)
from archspec.importers.table import mapping

# --- entries ---------------------------------------------------------------------------------


@mapping("keras", "Conv1D", "Conv2D", ops="conv1d, conv2d", meaning="convolution, channels_last")
def _conv(c: Config) -> tuple[str, dict]:
    kind = "conv1d" if c.origin.cls == "Conv1D" else "conv2d"
    fields = window(c, "filters", "kernel_size", "strides", "padding", "dilation_rate", "groups")
    fields.update(activation=activation(c), use_bias=c("use_bias", True))
    return kind, {**fields, **with_weights(c, ("kernel", "bias"))}


@mapping("keras", "DepthwiseConv2D", ops="depthwise_conv2d", meaning="per-channel convolution")
def _depthwise(c: Config) -> tuple[str, dict]:
    fields = window(c, "kernel_size", "strides", "padding", "dilation_rate", "depth_multiplier")
    fields.update(activation=activation(c), use_bias=c("use_bias", True))
    return "depthwise_conv2d", {**fields, **with_weights(c, ("depthwise", "bias"))}


@mapping("keras", "SeparableConv2D", ops="separable_conv2d", meaning="depthwise then 1x1")
def _separable(c: Config) -> tuple[str, dict]:
    fields = window(c, "filters", "kernel_size", "strides", "padding", "dilation_rate")
    fields.update(depth_multiplier=c("depth_multiplier"), activation=activation(c))
    fields["use_bias"] = c("use_bias", True)
    names = ("depthwise", "pointwise", "bias")
    return "separable_conv2d", {**fields, **with_weights(c, names)}


@mapping("keras", "Dense", ops="dense", meaning="fully connected over the last axis")
def _dense(c: Config) -> tuple[str, dict]:
    fields = {"units": c("units"), "activation": activation(c), "use_bias": c("use_bias", True)}
    return "dense", {**fields, **with_weights(c, ("kernel", "bias"))}


@mapping(
    "keras",
    "Activation",
    ops="relu, sigmoid, ... (shorthands) or activation",
    meaning="an elementwise activation by name",
)
def _activation(c: Config) -> tuple[str, dict]:
    function = activation(c) or "linear"
    if function in ("linear", "leaky_relu", "elu"):  # no shorthand with Keras's defaults
        return "activation", {"function": function}
    return function, {}  # every other activation has a shorthand op of its name


@mapping("keras", "ReLU", ops="relu, relu6, leaky_relu", meaning="ReLU, capped or leaky")
def _relu(c: Config) -> tuple[str, dict]:
    cap, slope, threshold = c("max_value"), c("negative_slope", 0.0), c("threshold", 0.0)
    if threshold:
        raise c.refuse(f"ReLU threshold={threshold} has no archspec form")
    if cap is None and not slope:
        return "relu", {}
    if cap is not None and float(cap) == 6.0 and not slope:
        return "relu6", {}
    if cap is None:
        return "leaky_relu", {"negative_slope": float(slope)}
    raise c.refuse(f"ReLU max_value={cap} negative_slope={slope} has no archspec form")


@mapping("keras", "LeakyReLU", ops="leaky_relu", meaning="x or slope * x")
def _leaky(c: Config) -> tuple[str, dict]:
    return "leaky_relu", {"negative_slope": float(c("negative_slope", 0.3))}


@mapping("keras", "ELU", ops="elu", meaning="x or alpha * (exp(x) - 1)")
def _elu(c: Config) -> tuple[str, dict]:
    return "elu", {"alpha": float(c("alpha", 1.0))}


@mapping("keras", "Softmax", ops="softmax", meaning="softmax over the channel axis")
def _softmax(c: Config) -> tuple[str, dict]:
    if c("axis", -1) not in (-1, len(c.input_shapes[0]) - 1):
        raise c.refuse(f"Softmax over axis {c('axis')}: archspec's runs over channels")
    return "softmax", {}


@mapping("keras", "BatchNormalization", ops="batch_norm", meaning="over the channel axis")
def _batch_norm(c: Config) -> tuple[str, dict]:
    _channel_axis(c)
    fields = {k: c(k) for k in ("epsilon", "momentum", "center", "scale")}
    names = ("gamma", "beta", "moving_mean", "moving_variance")
    return "batch_norm", {**fields, **with_weights(c, names)}


@mapping("keras", "LayerNormalization", ops="layer_norm", meaning="over the channel axis")
def _layer_norm(c: Config) -> tuple[str, dict]:
    _channel_axis(c)
    fields = {k: c(k) for k in ("epsilon", "center", "scale")}
    fields.update(
        gamma_initializer=initializer(c, "gamma_initializer"),
        beta_initializer=initializer(c, "beta_initializer"),
    )
    for key in ("gamma_regularizer", "beta_regularizer"):
        if regularizer(c, key):
            raise c.refuse(f"{key} on layer_norm has no archspec form")
    return "layer_norm", fields


def _channel_axis(c: Config) -> None:
    axis = c("axis", -1)
    rank = len(c.input_shapes[0]) - 1
    if axis not in (-1, rank, [-1], [rank]):
        raise c.refuse(f"normalises over axis {axis}: archspec normalises the channel axis")


@mapping(
    "keras",
    "LocalResponseNorm",
    ops="local_response_norm",
    meaning="archspec's own Keras layer (Caffe's and PyTorch's LRN)",
)
def _lrn(c: Config) -> tuple[str, dict]:
    return "local_response_norm", {k: c(k) for k in ("size", "alpha", "beta", "k")}


@mapping("keras", "Dropout", ops="dropout", meaning="noise_shape (None, 1, 1, 1): per_sample")
def _dropout(c: Config) -> tuple[str, dict]:
    noise = c("noise_shape")
    per_sample = noise is not None and list(noise[1:]) == [1] * (len(noise) - 1)
    if noise is not None and not per_sample:
        raise c.refuse(f"Dropout noise_shape={noise}: archspec drops elements or whole samples")
    return "dropout", {"rate": float(c("rate")), "per_sample": per_sample}


@mapping(
    "keras",
    "MaxPooling2D",
    "AveragePooling2D",
    ops="max_pool2d, avg_pool2d",
    meaning="windowed max / mean (same: padded cells never count)",
)
def _pool(c: Config) -> tuple[str, dict]:
    kind = "max_pool2d" if c.origin.cls == "MaxPooling2D" else "avg_pool2d"
    fields = window(c, "pool_size", "strides", "padding")
    return kind, fields


@mapping(
    "keras",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    ops="global_avg_pool2d, global_max_pool2d",
    meaning="over all positions",
)
def _global_pool(c: Config) -> tuple[str, dict]:
    kind = "global_avg_pool2d" if "Average" in c.origin.cls else "global_max_pool2d"
    return kind, {"keepdims": bool(c("keepdims", False))}


@mapping(
    "keras",
    "ZeroPadding2D",
    ops="zero_padding2d (or a conv/pool's padding)",
    meaning="zeros around H and W; archspec's `<node>_pad` helpers fold back",
)
def _zero_padding(c: Config) -> tuple[str, dict]:
    return "zero_padding2d", {"padding": c("padding")}


@mapping(
    "keras",
    "NegInfPadding2D",
    ops="max_pool2d padding",
    meaning="archspec's -inf padding before a max-pool (PyTorch's rule), folded back",
)
def _neg_inf_padding(c: Config) -> tuple[str, dict]:
    return "neg_inf_padding2d", {"padding": c("padding")}


@mapping("keras", "Flatten", ops="flatten", meaning="(h, w, c) order")
def _flatten(c: Config) -> tuple[str, dict]:
    return "flatten", {}


@mapping("keras", "Reshape", ops="reshape", meaning="channels_last target shape")
def _reshape(c: Config) -> tuple[str, dict]:
    return "reshape", {"target_shape": list(c("target_shape"))}


@mapping("keras", "Add", "Multiply", ops="add, multiply", meaning="elementwise merge")
def _merge(c: Config) -> tuple[str, dict]:
    return c.origin.cls.lower(), {}


@mapping("keras", "Concatenate", ops="concatenate", meaning="join along an axis")
def _concatenate(c: Config) -> tuple[str, dict]:
    axis, rank = c("axis", -1), len(c.input_shapes[0])
    axis = -1 if axis == rank - 1 else axis  # the channel axis, however it was written
    return "concatenate", {"axis": axis if axis < 0 else axis - 1}  # IR axes exclude batch


@mapping("keras", "Conv2DTranspose", ops="conv2d_transpose", meaning="Keras's output sizes")
def _conv_transpose(c: Config) -> tuple[str, dict]:
    fields = window(c, "filters", "kernel_size", "strides", "padding", "output_padding")
    fields.update(dilation_rate=c("dilation_rate"), activation=activation(c))
    fields["use_bias"] = c("use_bias", True)
    return "conv2d_transpose", {**fields, **with_weights(c, ("kernel", "bias"))}


@mapping("keras", "UpSampling2D", ops="upsampling2d", meaning="nearest or bilinear, integer sizes")
def _upsampling(c: Config) -> tuple[str, dict]:
    interpolation = c("interpolation", "nearest")
    if interpolation not in ("nearest", "bilinear"):
        raise c.refuse(f"interpolation {interpolation!r} has no archspec form")
    return "upsampling2d", {"size": c("size"), "interpolation": interpolation}


@mapping("keras", "Cropping2D", ops="cropping2d", meaning="rows and columns dropped at the edges")
def _cropping(c: Config) -> tuple[str, dict]:
    return "cropping2d", {"cropping": c("cropping")}


@mapping("keras", "Rescaling", ops="rescaling", meaning="x * scale + offset")
def _rescaling(c: Config) -> tuple[str, dict]:
    return "rescaling", {"scale": c("scale"), "offset": c("offset", 0.0)}


@mapping(
    "keras",
    "Normalization",
    ops="normalization",
    meaning="per-channel (x - mean) / sqrt(variance), constants or adapted weights",
)
def _normalization(c: Config) -> tuple[str, dict]:
    if c("invert", False):
        raise c.refuse("Normalization(invert=True) has no archspec form")
    if c("axis", -1) not in (-1, len(c.input_shapes[0]) - 1, [-1]):
        raise c.refuse(f"normalises over axis {c('axis')}: archspec normalises channels")
    return "normalization", {"mean": _flat(c("mean")), "variance": _flat(c("variance"))}


def _flat(value: Any) -> Any:
    """Keras may store per-channel constants broadcast, e.g. [[[[0.4, 0.5, 0.4]]]]."""
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    return value


@mapping("keras", "ClassToken", ops="class_token", meaning="archspec's learned [CLS] token layer")
def _class_token(c: Config) -> tuple[str, dict]:
    return "class_token", {"token_initializer": initializer(c, "token_initializer")}


@mapping(
    "keras",
    "PositionEmbedding",
    ops="position_embedding",
    meaning="archspec's learned position embedding layer",
)
def _position_embedding(c: Config) -> tuple[str, dict]:
    return "position_embedding", {"embedding_initializer": initializer(c, "embedding_initializer")}


@mapping("keras", "LayerScale", ops="layer_scale", meaning="archspec's per-channel scale layer")
def _layer_scale(c: Config) -> tuple[str, dict]:
    return "layer_scale", {"init_value": float(c("init_value"))}


@mapping("keras", "Take", ops="take", meaning="one index along an axis (batch excluded)")
def _take(c: Config) -> tuple[str, dict]:
    axis = c("axis", 1)
    return "take", {"index": c("index"), "axis": axis - 1 if axis > 0 else axis}


@mapping(
    "keras",
    "SelfAttention",
    ops="multi_head_attention",
    meaning="archspec's self-attention layer (Keras MultiHeadAttention on one sequence)",
)
def _self_attention(c: Config) -> tuple[str, dict]:
    key_dim = c("key_dim")
    unsupported = {
        "value_dim": c("value_dim") not in (None, key_dim),
        "use_gate": bool(c("use_gate")),
        "output_shape": c("output_shape") is not None,
        "attention_axes": c("attention_axes") not in (None, [1], 1),
        "sliding_window": c("sliding_window") is not None,
    }
    for key, bad in unsupported.items():
        if bad:
            raise c.refuse(f"{key}={c(key)!r} has no archspec form")
    for key in ("kernel_regularizer", "bias_regularizer"):
        if regularizer(c, key):
            raise c.refuse(f"{key} on attention has no archspec form")
    fields = {
        "num_heads": c("num_heads"),
        "key_dim": key_dim,
        "dropout": float(c("dropout", 0.0)),
        "use_bias": c("use_bias", True),
    }
    fields.update(
        kernel_initializer=initializer(c, "kernel_initializer"),
        bias_initializer=initializer(c, "bias_initializer"),
    )
    return "multi_head_attention", fields


@mapping("keras", "Permute", ops="permute", meaning="axes numbered from 1 (batch excluded)")
def _permute(c: Config) -> tuple[str, dict]:
    return "permute", {"dims": list(c("dims"))}
