"""Rows of the PyTorch lowering table for resampling and per-channel scaling:
conv2d_transpose, upsampling2d, cropping2d, rescaling, normalization, layer_scale.

Constants that broadcast over channels are ``x.new_tensor(...)`` (on x's device, in its dtype)
viewed as (C, 1, ...), the channels-first shape; learned ones live in a plain ``nn.Module``
holder under the IR's weight names.
"""

from __future__ import annotations

from archspec.backends import BackendError
from archspec.backends.torch.calls import Call, Ctx, Lowered, activate, symmetric_padding
from archspec.backends.torch.pooling import crop_index
from archspec.codegen.common import pyrepr


def conv_transpose(ctx: Ctx) -> Lowered:
    op = ctx.op
    crops = op.crops(ctx.in_shape)
    strides, dilation = op._pair("strides"), op._pair("dilation_rate")
    # Keep `before` at the start through padding; output_padding (zeros at the end) or a
    # slice makes the end match Keras's length.
    extra = tuple(before - after for before, after in crops)
    if any(e >= max(s, d) for e, s, d in zip(extra, strides, dilation, strict=True)):
        raise BackendError(f"{ctx.layer.name}: PyTorch cannot pad this transposed conv's end")
    call = Call(
        "nn.ConvTranspose2d",
        [pyrepr(ctx.in_shape[-1]), ctx.value("filters")],
        [("kernel_size", ctx.value("kernel_size"))],
    )
    ctx.keyword(call, "stride", "strides", 1)
    padding = tuple(before for before, _ in crops)
    if any(padding):
        call.kwargs.append(("padding", pyrepr(symmetric_padding(padding))))
    if any(e > 0 for e in extra):
        call.kwargs.append(
            ("output_padding", pyrepr(symmetric_padding(tuple(max(e, 0) for e in extra))))
        )
    ctx.keyword(call, "dilation", "dilation_rate", 1)
    if not op.use_bias:
        call.kwargs.append(("bias", "False"))
    cut = crop_index(tuple((0, max(-e, 0)) for e in extra))
    notes = ("Keras's output size: the extra end row/column is cut",) if cut else ()
    return Lowered(
        activate(op.activation, f"{ctx.attr}({ctx.inputs[0]}){cut}"), call, forward_notes=notes
    )


def upsampling(ctx: Ctx) -> Lowered:
    op = ctx.op
    size = symmetric_padding(tuple(op.size) if isinstance(op.size, list) else (op.size,))
    mode = "bilinear" if op.interpolation == "bilinear" else "nearest"
    extra = ", align_corners=False" if mode == "bilinear" else ""
    expr = (
        f"F.interpolate({ctx.inputs[0]}, scale_factor={pyrepr(size)}, mode={pyrepr(mode)}{extra})"
    )
    notes = ("half-pixel centres, as Keras's resize",) if mode == "bilinear" else ()
    return Lowered(expr, forward_notes=notes)


def cropping(ctx: Ctx) -> Lowered:
    return Lowered(f"{ctx.inputs[0]}{crop_index(ctx.op.crops())}")


def _per_channel(ctx: Ctx, value: float | list[float], code: str = "{}") -> str:
    """A constant (one value, or one per channel shaped to broadcast channels first)."""
    if not isinstance(value, list):
        return pyrepr(value)
    rank = len(ctx.in_shape)
    view = f".view({', '.join(['-1'] + ['1'] * (rank - 1))})" if rank > 1 else ""
    return code.format(f"{ctx.inputs[0]}.new_tensor({pyrepr(value)})") + view


def rescaling(ctx: Ctx) -> Lowered:
    op = ctx.op
    expr = f"{ctx.inputs[0]} * {_per_channel(ctx, op.scale)}"
    if op.offset != 0:
        expr += f" + {_per_channel(ctx, op.offset)}"
    return Lowered(expr)


def normalization(ctx: Ctx) -> Lowered:
    op, x, rank = ctx.op, ctx.inputs[0], len(ctx.in_shape)
    note = "Keras's Normalization: (x - mean) / max(sqrt(variance), 1e-7)"
    if op.mean is not None:
        mean = _per_channel(ctx, op.mean)
        root = _per_channel(ctx, op.variance, "{}.sqrt().clamp(min=1e-07)")
        if not isinstance(op.variance, list):
            root = pyrepr(max(float(op.variance) ** 0.5, 1e-7))
        return Lowered(f"torch.div({x} - {mean}, {root})", forward_notes=(note,))
    channels = ctx.in_shape[-1]
    setup = (
        f'{ctx.attr}.register_buffer("mean", torch.zeros({channels}))',
        f'{ctx.attr}.register_buffer("variance", torch.ones({channels}))',
        f'{ctx.attr}.register_buffer("count", torch.zeros((), dtype=torch.int64))',
    )
    shape = ", ".join(["-1"] + ["1"] * (rank - 1)) if rank > 1 else "-1"
    mean, variance = f"{ctx.attr}.mean.view({shape})", f"{ctx.attr}.variance.view({shape})"
    forward = f"torch.div({x} - {mean}, {variance}.sqrt().clamp(min=1e-07))"
    notes = ("Keras's adapted statistics are buffers",)
    return Lowered(forward, Call("nn.Module"), setup, notes, (note,))


def layer_scale(ctx: Ctx) -> Lowered:
    rank, channels = len(ctx.in_shape), ctx.in_shape[-1]
    setup = (f"{ctx.attr}.gamma = nn.Parameter(torch.ones({channels}))",)
    view = f".view({', '.join(['-1'] + ['1'] * (rank - 1))})" if rank > 1 else ""
    return Lowered(f"{ctx.inputs[0]} * {ctx.attr}.gamma{view}", Call("nn.Module"), setup)
