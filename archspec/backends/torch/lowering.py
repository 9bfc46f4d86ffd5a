"""The PyTorch lowering table: one row per op kind, turning a checked layer into code.

A row reads a ``Ctx`` (the layer, its input variables, which spec params stay symbolic) and
returns a ``Lowered``: the module built in ``__init__`` (if any) and the expression ``forward``
computes. The same rows feed the generated source and, because the live model is that source
executed, the live model too. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable

from archspec.backends import BackendError
from archspec.backends.torch import resample, tokens
from archspec.backends.torch.calls import (
    Call,
    Ctx,
    Lowered,
    activate,
    channels_first,
    channels_last,
    pad_argument,
    symmetric_padding,
    torch_dim,
    torch_shape,
)
from archspec.backends.torch.pooling import adaptive_avg_pool, global_pool, pool
from archspec.codegen.common import pyrepr


# -- rows -------------------------------------------------------------------------------------
def _conv_call(ctx: Ctx, cls: str, in_channels: int, out: str, groups: str | None) -> Call:
    call = Call(cls, [pyrepr(in_channels), out], [("kernel_size", ctx.value("kernel_size"))])
    ctx.keyword(call, "stride", "strides", 1)
    pads = ctx.op.pads(ctx.in_shape)  # asymmetric pads are applied in forward instead
    if all(before == after for before, after in pads) and any(b for b, _ in pads):
        call.kwargs.append(
            ("padding", pyrepr(symmetric_padding(tuple(before for before, _ in pads))))
        )
    ctx.keyword(call, "dilation", "dilation_rate", 1)
    if groups is not None:
        call.kwargs.append(("groups", groups))
    if not ctx.op.use_bias:
        call.kwargs.append(("bias", "False"))
    return call


def _padded_input(ctx: Ctx) -> tuple[str, tuple[str, ...]]:
    """The input expression, zero-padded in forward when the padding is asymmetric."""
    pads = ctx.op.pads(ctx.in_shape)
    if all(before == after for before, after in pads):
        return ctx.inputs[0], ()
    note = "PyTorch pads symmetrically; F.pad takes asymmetric pads ('same': odd one after)"
    return f"F.pad({ctx.inputs[0]}, {pyrepr(pad_argument(pads))})", (note,)


def conv(ctx: Ctx) -> Lowered:
    cls = "nn.Conv1d" if ctx.op.spatial_rank == 1 else "nn.Conv2d"
    symbolic = ctx.layer.node.param_refs.get("groups") in ctx.symbolic
    groups = ctx.value("groups") if ctx.op.groups != 1 or symbolic else None
    call = _conv_call(ctx, cls, ctx.in_shape[-1], ctx.value("filters"), groups)
    x, notes = _padded_input(ctx)
    return Lowered(activate(ctx.op.activation, f"{ctx.attr}({x})"), call, forward_notes=notes)


def depthwise(ctx: Ctx) -> Lowered:
    channels = ctx.in_shape[-1]
    out = pyrepr(channels * ctx.op.depth_multiplier)
    call = _conv_call(ctx, "nn.Conv2d", channels, out, pyrepr(channels))
    x, notes = _padded_input(ctx)
    note = "depthwise: one group per input channel, depth_multiplier outputs each"
    forward = activate(ctx.op.activation, f"{ctx.attr}({x})")
    return Lowered(forward, call, notes=(note,), forward_notes=notes)


def separable(ctx: Ctx) -> Lowered:
    call = _conv_call(ctx, "SeparableConv2d", ctx.in_shape[-1], ctx.value("filters"), None)
    ctx.keyword(call, "depth_multiplier", "depth_multiplier", 1)
    x, notes = _padded_input(ctx)
    forward = activate(ctx.op.activation, f"{ctx.attr}({x})")
    return Lowered(forward, call, forward_notes=notes, helpers=frozenset({"SeparableConv2d"}))


def dense(ctx: Ctx) -> Lowered:
    rank = len(ctx.in_shape)
    call = Call("nn.Linear", [pyrepr(ctx.in_shape[-1]), ctx.value("units")])
    if not ctx.op.use_bias:
        call.kwargs.append(("bias", "False"))
    expr = channels_first(f"{ctx.attr}({channels_last(ctx.inputs[0], rank)})", rank)
    notes = ("Linear acts on the last axis: features move last and back",) if rank > 1 else ()
    return Lowered(activate(ctx.op.activation, expr), call, forward_notes=notes)


def _lone_parameter(ctx: Ctx, channels: int) -> tuple[str, ...]:
    """Keras may learn only gamma or only beta; PyTorch's affine is both or neither."""
    op = ctx.op
    if op.scale == op.center:
        return ()
    name, fill = ("weight", "ones") if op.scale else ("bias", "zeros")
    return (f"{ctx.attr}.{name} = nn.Parameter(torch.{fill}({channels}))",)


def batch_norm(ctx: Ctx) -> Lowered:
    channels = ctx.in_shape[-1]
    cls = "nn.BatchNorm2d" if len(ctx.in_shape) == 3 else "nn.BatchNorm1d"
    momentum = float(f"{1 - ctx.op.momentum:.12g}")
    call = Call(cls, [pyrepr(channels)], [("eps", ctx.value("epsilon"))])
    call.kwargs.append(("momentum", pyrepr(momentum)))
    if not (ctx.op.scale and ctx.op.center):
        call.kwargs.append(("affine", "False"))
    note = "Keras's epsilon; PyTorch's momentum is 1 - Keras's"
    return Lowered(
        f"{ctx.attr}({ctx.inputs[0]})", call, _lone_parameter(ctx, channels), notes=(note,)
    )


def layer_norm(ctx: Ctx) -> Lowered:
    channels, rank = ctx.in_shape[-1], len(ctx.in_shape)
    call = Call("nn.LayerNorm", [pyrepr(channels)], [("eps", ctx.value("epsilon"))])
    if not (ctx.op.scale and ctx.op.center):
        call.kwargs.append(("elementwise_affine", "False"))
    x = channels_last(ctx.inputs[0], rank)
    forward = channels_first(f"{ctx.attr}({x})", rank)
    notes = ("normalises over channels, so they move last and back",) if rank >= 2 else ()
    return Lowered(forward, call, _lone_parameter(ctx, channels), forward_notes=notes)


def local_response_norm(ctx: Ctx) -> Lowered:
    call = Call("nn.LocalResponseNorm", [ctx.value("size")])
    for name in ("alpha", "beta", "k"):
        call.kwargs.append((name, ctx.value(name)))
    return Lowered(f"{ctx.attr}({ctx.inputs[0]})", call)


def dropout(ctx: Ctx) -> Lowered:
    if not ctx.op.per_sample:
        return Lowered(f"{ctx.attr}({ctx.inputs[0]})", Call("nn.Dropout", [ctx.value("rate")]))
    x, ones = ctx.inputs[0], ", ".join(["1"] * len(ctx.in_shape))
    mask = f"F.dropout({x}.new_ones({x}.shape[0], {ones}), {ctx.value('rate')}, self.training)"
    notes = ("per-sample dropout (stochastic depth): one kept/dropped draw per sample",)
    return Lowered(f"{x} * {mask}", forward_notes=notes)


def flatten(ctx: Ctx) -> Lowered:
    rank = len(ctx.in_shape)
    if ctx.channels_first_flatten or rank < 2:
        notes = ("PyTorch's (C, H, W) order: transfer_weights permutes the next dense",)
        expr = f"torch.flatten({ctx.inputs[0]}, 1)"
        return Lowered(expr, forward_notes=notes if rank >= 2 else ())
    notes = ("channels_last (h, w, c) order, as the spec computes it",)
    expr = f"torch.flatten({channels_last(ctx.inputs[0], rank)}, 1)"
    return Lowered(expr, forward_notes=notes)


def reshape(ctx: Ctx) -> Lowered:
    rank, out = len(ctx.in_shape), ctx.layer.output_shape
    target = ", ".join(str(d) for d in (-1, *out))
    expr = f"{channels_last(ctx.inputs[0], rank)}.reshape({target})"
    notes = ("reshapes in channels_last order, as the spec computes it",) if rank >= 2 else ()
    return Lowered(channels_first(expr, len(out)), forward_notes=notes)


def activation(ctx: Ctx) -> Lowered:
    op = ctx.op
    if op.kind == "leaky_relu":
        return Lowered(f"F.leaky_relu({ctx.inputs[0]}, {pyrepr(op.negative_slope)})")
    if op.kind == "elu":
        return Lowered(f"F.elu({ctx.inputs[0]}, alpha={pyrepr(op.alpha)})")
    return Lowered(activate(op.function, ctx.inputs[0]))


def zero_padding(ctx: Ctx) -> Lowered:
    return Lowered(f"F.pad({ctx.inputs[0]}, {pyrepr(pad_argument(ctx.op.pads()))})")


WIDE_MERGE = 64  # inputs beyond which add/multiply is a call, not an operator chain


def merge(symbol: str) -> Callable[[Ctx], Lowered]:
    def row(ctx: Ctx) -> Lowered:
        # Equal ranks broadcast alike channels first; a lower-rank input (Keras aligns sizes at
        # the right) gains its leading 1s explicitly before the layout changes.
        out = ctx.layer.output_shape
        terms = []
        for name, shape in zip(ctx.inputs, ctx.layer.input_shapes, strict=True):
            if len(shape) < len(out) and len(out) > 1:
                padded = (1,) * (len(out) - len(shape)) + tuple(shape)
                name = f"{name}.reshape({', '.join(str(d) for d in (-1, *torch_shape(padded)))})"
            terms.append(name)
        if len(terms) > WIDE_MERGE:
            # A chain of thousands of operators nests too deep for Python to compile; these
            # calls fold in the same left-to-right order as the chain (and as Keras).
            listed = ", ".join(terms[1:] if symbol == "+" else terms)
            return Lowered(
                f"sum([{listed}], {terms[0]})" if symbol == "+" else f"math.prod([{listed}])"
            )
        return Lowered(f" {symbol} ".join(terms))

    return row


def concatenate(ctx: Ctx) -> Lowered:
    dim = torch_dim(ctx.op.axis, len(ctx.in_shape))
    return Lowered(f"torch.cat([{', '.join(ctx.inputs)}], dim={dim})")


LOWERINGS: dict[str, Callable[[Ctx], Lowered]] = {
    "dense": dense,
    "activation": activation,
    "relu": activation,
    "relu6": activation,
    "gelu": activation,
    "sigmoid": activation,
    "tanh": activation,
    "silu": activation,
    "softmax": activation,
    "leaky_relu": activation,
    "elu": activation,
    "dropout": dropout,
    "flatten": flatten,
    "reshape": reshape,
    "conv1d": conv,
    "conv2d": conv,
    "depthwise_conv2d": depthwise,
    "separable_conv2d": separable,
    "max_pool2d": pool("max"),
    "avg_pool2d": pool("avg"),
    "global_avg_pool2d": global_pool("mean"),
    "global_max_pool2d": global_pool("amax"),
    "adaptive_avg_pool2d": adaptive_avg_pool,
    "zero_padding2d": zero_padding,
    "batch_norm": batch_norm,
    "layer_norm": layer_norm,
    "local_response_norm": local_response_norm,
    "add": merge("+"),
    "multiply": merge("*"),
    "concatenate": concatenate,
    "swish": activation,
    "hard_sigmoid": activation,
    "hard_swish": activation,
    "conv2d_transpose": resample.conv_transpose,
    "upsampling2d": resample.upsampling,
    "cropping2d": resample.cropping,
    "rescaling": resample.rescaling,
    "normalization": resample.normalization,
    "layer_scale": resample.layer_scale,
    "class_token": tokens.class_token,
    "position_embedding": tokens.position_embedding,
    "multi_head_attention": tokens.attention,
    "permute": tokens.permute,
    "take": tokens.take,
}


def lower(ctx: Ctx) -> Lowered:
    """The lowering of one layer; BackendError for a kind without a row."""
    row = LOWERINGS.get(ctx.layer.kind)
    if row is None:
        raise BackendError(f"the torch backend has no lowering for op '{ctx.layer.kind}'")
    return row(ctx)
