"""The Keras lowering table: one row per op kind, IR node -> the Keras layer calls it becomes.

A row returns the calls for one node: helper layers first (named ``<node>_pad``, no weights),
the node's own layer last. The same rows feed the emitted source and, through it, the live
model (``live.build`` runs that source), so the two cannot drift. Adding an op kind = one row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archspec.backends import BackendError
from archspec.backends.keras.calls import Call, Values, prune, weight_kwargs
from archspec.backends.keras.padding import conv_padding, pool_padding
from archspec.passes.check import LayerReport

Row = Callable[[LayerReport, Values], list[Call]]
ROWS: dict[str, Row] = {}


def row(*kinds: str) -> Callable[[Row], Row]:
    """Register a lowering row for op kinds."""

    def register(function: Row) -> Row:
        for kind in kinds:
            ROWS[kind] = function
        return function

    return register


def lower(
    layer: LayerReport,
    free: frozenset[str] = frozenset(),
    non_negative: frozenset[str] = frozenset(),
) -> list[Call]:
    """The Keras calls for one (non-input) node, named, default arguments dropped.

    ``free`` names the spec params that stay symbolic (``build_model`` arguments);
    ``non_negative`` the nodes whose values are never negative (``passes/ranges.py``).
    """
    try:
        function = ROWS[layer.kind]
    except KeyError:
        raise BackendError(f"node {layer.name!r}: no Keras lowering for {layer.kind}") from None
    return [prune(call) for call in function(layer, Values(layer, free, non_negative))]


def layer_call(layer: LayerReport, func: str, *args: Any, **kwargs: Any) -> Call:
    """The node's own layer, named after it."""
    return Call(f"layers.{func}", args, tuple(kwargs.items()), layer.name)


# --- rows ------------------------------------------------------------------------------------


@row("conv1d", "conv2d")
def _conv(layer: LayerReport, v: Values) -> list[Call]:
    rank = layer.node.op.spatial_rank
    helpers, padding = conv_padding(layer, v, rank)
    return [
        *helpers,
        layer_call(
            layer,
            f"Conv{rank}D",
            filters=v("filters"),
            kernel_size=v("kernel_size"),
            strides=v("strides"),
            padding=padding,
            dilation_rate=v("dilation_rate"),
            groups=v("groups"),
            activation=v("activation"),
            use_bias=v("use_bias"),
            **dict(weight_kwargs(v, "kernel", "bias")),
        ),
    ]


@row("depthwise_conv2d")
def _depthwise(layer: LayerReport, v: Values) -> list[Call]:
    helpers, padding = conv_padding(layer, v, 2)
    return [
        *helpers,
        layer_call(
            layer,
            "DepthwiseConv2D",
            kernel_size=v("kernel_size"),
            strides=v("strides"),
            padding=padding,
            depth_multiplier=v("depth_multiplier"),
            dilation_rate=v("dilation_rate"),
            activation=v("activation"),
            use_bias=v("use_bias"),
            **dict(weight_kwargs(v, "depthwise", "bias")),
        ),
    ]


@row("separable_conv2d")
def _separable(layer: LayerReport, v: Values) -> list[Call]:
    helpers, padding = conv_padding(layer, v, 2)
    return [
        *helpers,
        layer_call(
            layer,
            "SeparableConv2D",
            filters=v("filters"),
            kernel_size=v("kernel_size"),
            strides=v("strides"),
            padding=padding,
            dilation_rate=v("dilation_rate"),
            depth_multiplier=v("depth_multiplier"),
            activation=v("activation"),
            use_bias=v("use_bias"),
            **dict(weight_kwargs(v, "depthwise", "pointwise", "bias")),
        ),
    ]


@row("dense")
def _dense(layer: LayerReport, v: Values) -> list[Call]:
    return [
        layer_call(
            layer,
            "Dense",
            units=v("units"),
            activation=v("activation"),
            use_bias=v("use_bias"),
            **dict(weight_kwargs(v, "kernel", "bias")),
        )
    ]


@row("max_pool2d", "avg_pool2d")
def _pool(layer: LayerReport, v: Values) -> list[Call]:
    helpers, padding = pool_padding(layer, v)
    func = "MaxPooling2D" if layer.kind == "max_pool2d" else "AveragePooling2D"
    call = layer_call(layer, func, pool_size=v("pool_size"), strides=v("strides"), padding=padding)
    return [*helpers, call]


@row("adaptive_avg_pool2d")
def _adaptive(layer: LayerReport, v: Values) -> list[Call]:
    # Evenly dividing adaptive pooling is plain pooling with kernel = stride = input // output.
    window = layer.node.op.window(layer.input_shapes[0])
    size = window[0] if window[0] == window[1] else window
    return [layer_call(layer, "AveragePooling2D", pool_size=size)]


@row("global_avg_pool2d")
def _global_avg(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "GlobalAveragePooling2D", keepdims=v("keepdims"))]


@row("global_max_pool2d")
def _global_max(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "GlobalMaxPooling2D", keepdims=v("keepdims"))]


@row("zero_padding2d")
def _zero_padding(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "ZeroPadding2D", padding=v("padding"))]


@row("batch_norm")
def _batch_norm(layer: LayerReport, v: Values) -> list[Call]:
    return [
        layer_call(
            layer,
            "BatchNormalization",
            momentum=v("momentum"),
            epsilon=v("epsilon"),
            center=v("center"),
            scale=v("scale"),
            **dict(weight_kwargs(v, "beta", "gamma", "moving_mean", "moving_variance")),
        )
    ]


@row("layer_norm")
def _layer_norm(layer: LayerReport, v: Values) -> list[Call]:
    return [
        layer_call(
            layer,
            "LayerNormalization",
            epsilon=v("epsilon"),
            center=v("center"),
            scale=v("scale"),
            **dict(weight_kwargs(v, "beta", "gamma")),
        )
    ]


@row("local_response_norm")
def _lrn(layer: LayerReport, v: Values) -> list[Call]:
    kwargs = tuple((key, v(key)) for key in ("size", "alpha", "beta", "k"))
    return [Call("LocalResponseNorm", kwargs=kwargs, name=layer.name)]


@row("activation")
def _activation(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "Activation", v("function"))]


@row(
    "relu",
    "relu6",
    "gelu",
    "sigmoid",
    "tanh",
    "silu",
    "softmax",
    "swish",
    "hard_sigmoid",
    "hard_swish",
)
def _named_activation(layer: LayerReport, v: Values) -> list[Call]:
    # Keras's "gelu" is the exact (erf) form and "softmax" runs over the last (channel) axis;
    # Keras 3's "hard_sigmoid" is relu6(x + 3) / 6, as PyTorch's (Keras 2's was 0.2 x + 0.5).
    return [layer_call(layer, "Activation", layer.node.op.function)]


@row("leaky_relu")
def _leaky_relu(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "LeakyReLU", negative_slope=v("negative_slope"))]


@row("elu")
def _elu(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "ELU", alpha=v("alpha"))]


@row("dropout")
def _dropout(layer: LayerReport, v: Values) -> list[Call]:
    if not layer.node.op.per_sample:
        return [layer_call(layer, "Dropout", v("rate"))]
    noise = (None, *(1 for _ in layer.output_shape))  # one draw per sample
    return [layer_call(layer, "Dropout", v("rate"), noise_shape=noise)]


@row("flatten")
def _flatten(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "Flatten")]


@row("reshape")
def _reshape(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "Reshape", v("target_shape"))]


@row("add")
def _add(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "Add")]


@row("multiply")
def _multiply(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "Multiply")]


@row("concatenate")
def _concatenate(layer: LayerReport, v: Values) -> list[Call]:
    # The IR's axis excludes the batch; Keras's counts it. Negative axes mean the same in both.
    axis = layer.node.op.axis
    return [layer_call(layer, "Concatenate", axis=v("axis") if axis < 0 else axis + 1)]


@row("conv2d_transpose")
def _conv_transpose(layer: LayerReport, v: Values) -> list[Call]:
    return [
        layer_call(
            layer,
            "Conv2DTranspose",
            filters=v("filters"),
            kernel_size=v("kernel_size"),
            strides=v("strides"),
            padding=v("padding"),
            output_padding=v("output_padding"),
            dilation_rate=v("dilation_rate"),
            activation=v("activation"),
            use_bias=v("use_bias"),
            **dict(weight_kwargs(v, "kernel", "bias")),
        )
    ]


@row("upsampling2d")
def _upsampling(layer: LayerReport, v: Values) -> list[Call]:
    # NOTE: bilinear is ops.image.resize: half-pixel centres, corners not aligned.
    return [layer_call(layer, "UpSampling2D", size=v("size"), interpolation=v("interpolation"))]


@row("cropping2d")
def _cropping(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "Cropping2D", cropping=v("cropping"))]


@row("rescaling")
def _rescaling(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "Rescaling", v("scale"), offset=v("offset"))]


@row("normalization")
def _normalization(layer: LayerReport, v: Values) -> list[Call]:
    # Given mean and variance are constants; without them Keras holds mean, variance, count.
    return [layer_call(layer, "Normalization", mean=v("mean"), variance=v("variance"))]


@row("layer_scale")
def _layer_scale(layer: LayerReport, v: Values) -> list[Call]:
    return [Call("LayerScale", (v("init_value"),), name=layer.name)]


@row("class_token")
def _class_token(layer: LayerReport, v: Values) -> list[Call]:
    return [Call("ClassToken", kwargs=tuple(weight_kwargs(v, "token")), name=layer.name)]


@row("position_embedding")
def _position_embedding(layer: LayerReport, v: Values) -> list[Call]:
    kwargs = tuple(weight_kwargs(v, "embedding"))
    return [Call("PositionEmbedding", kwargs=kwargs, name=layer.name)]


@row("multi_head_attention")
def _attention(layer: LayerReport, v: Values) -> list[Call]:
    # key_dim written out: Keras needs it; the IR's default is features / num_heads.
    key_dim = layer.node.op.head_size(layer.input_shapes[0][-1])
    kwargs = (
        ("num_heads", v("num_heads")),
        ("key_dim", v("key_dim") if layer.node.op.key_dim is not None else key_dim),
        ("dropout", v("dropout")),
        ("use_bias", v("use_bias")),
        *weight_kwargs(v, "kernel", "bias"),
    )
    return [Call("SelfAttention", kwargs=kwargs, name=layer.name)]


@row("permute")
def _permute(layer: LayerReport, v: Values) -> list[Call]:
    return [layer_call(layer, "Permute", v("dims"))]


@row("take")
def _take(layer: LayerReport, v: Values) -> list[Call]:
    # Keras counts the batch axis; the IR does not.
    kwargs = (("index", v("index")), ("axis", layer.node.op.axis + 1))
    return [Call("Take", kwargs=kwargs, name=layer.name)]
