"""Pooling rows of the PyTorch lowering table, whose padding rules need the most care.

The IR's ``same`` is TensorFlow's: the odd pad goes bottom/right and padded cells never count
(max ignores them, average leaves them out of the divisor). PyTorch pads symmetrically, so per
axis: at stride > 1, ``padding=before`` with ``ceil_mode`` lets the last window hang over the
odd pad; at stride 1 (where ceil_mode adds nothing) ``padding=after`` pads one cell too many
at the top/left and the first output is cropped. Explicit pads are PyTorch's own semantics:
the symmetric part is ``padding``, any remainder an ``F.pad`` (-inf for max, zeros for average).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archspec.backends import BackendError
from archspec.backends.torch.calls import Call, Ctx, Lowered, pad_argument, symmetric_padding
from archspec.codegen.common import pyrepr
from archspec.ops.shapes import Pads, window_output

SAME_NOTE = "TF 'same' pads the odd cell bottom/right, never counted"


@dataclass(frozen=True)
class PoolPlan:
    """How PyTorch pools one layer: per spatial axis, its padding, any F.pad beforehand, and
    whether the first output is cropped; ceil_mode for the whole window."""

    padding: tuple[int, ...]
    extra: Pads
    crop: tuple[tuple[int, int], ...]  # outputs dropped (first, last) per axis
    ceil: bool


def plan(ctx: Ctx) -> PoolPlan:
    op = ctx.op
    pads, (size, strides) = op.pads(ctx.in_shape), op.window()
    ceil = op.rounding == "ceil"
    if op.padding != "same":
        padding = tuple(min(pair) for pair in pads)
        extra = tuple((b - p, a - p) for (b, a), p in zip(pads, padding, strict=True))
        # With ceil, a window may start in an F.pad'ed tail that PyTorch counts as input but
        # the IR (PyTorch's own padding rule) does not: that last output goes.
        crop = []
        for axis, n in enumerate(ctx.in_shape[:-1]):
            length, pair = n + sum(extra[axis]), (padding[axis],) * 2
            got = window_output(length, size[axis], strides[axis], 1, pair, ceil)
            crop.append((0, got - ctx.layer.output_shape[axis]))
        return PoolPlan(padding, extra, tuple(crop), ceil)
    first = tuple(b != a and s == 1 for (b, a), s in zip(pads, strides, strict=True))
    padding = tuple(a if cut else b for (b, a), cut in zip(pads, first, strict=True))
    odd_at_stride = any(b != a and s > 1 for (b, a), s in zip(pads, strides, strict=True))
    crop = tuple((int(cut), 0) for cut in first)
    return PoolPlan(padding, ((0, 0),) * len(pads), crop, ceil or odd_at_stride)


def check_shape(ctx: Ctx, how: PoolPlan) -> None:
    """PyTorch's output size under ``how`` must be the checker's, or the row refuses."""
    size, strides = ctx.op.window()
    for axis, n in enumerate(ctx.in_shape[:-1]):
        length, pads = n + sum(how.extra[axis]), (how.padding[axis],) * 2
        got = window_output(length, size[axis], strides[axis], 1, pads, how.ceil)
        dropped = got - sum(how.crop[axis])
        if dropped != ctx.layer.output_shape[axis] or not 0 <= how.crop[axis][1] <= 1:
            raise BackendError(
                f"{ctx.layer.name}: PyTorch pooling cannot express padding {ctx.op.padding} "
                f"with rounding {ctx.op.rounding} on input {ctx.in_shape}"
            )


def crop_index(crop: tuple[tuple[int, int], ...]) -> str:
    """``[:, :, 1:]``-style indexing that drops the cropped outputs ('' when none)."""
    index = [f"{first or ''}:{-last if last else ''}" for first, last in crop]
    while index and index[-1] == ":":
        index.pop()
    return f"[:, :, {', '.join(index)}]" if index else ""


def pool(kind: str) -> Callable[[Ctx], Lowered]:
    """The max_pool2d or avg_pool2d row."""
    cls = "nn.MaxPool2d" if kind == "max" else "nn.AvgPool2d"

    def row(ctx: Ctx) -> Lowered:
        how = plan(ctx)
        try:
            check_shape(ctx, how)
        except BackendError:
            if ctx.op.padding != "same":
                raise
            return same_padded_explicitly(ctx, kind, cls)
        call = Call(cls, [], [("kernel_size", ctx.value("pool_size"))])
        if ctx.op.strides is not None:
            call.kwargs.append(("stride", ctx.value("strides")))
        if any(how.padding):
            call.kwargs.append(("padding", pyrepr(symmetric_padding(how.padding))))
        if how.ceil:
            call.kwargs.append(("ceil_mode", "True"))
        same = ctx.op.padding == "same"
        if kind == "avg" and same and any(how.padding):
            call.kwargs.append(("count_include_pad", "False"))
        x, notes = ctx.inputs[0], ()
        if any(any(pair) for pair in how.extra):
            fill = ', value=float("-inf")' if kind == "max" else ""
            x = f"F.pad({x}, {pyrepr(pad_argument(how.extra))}{fill})"
            notes = ("F.pad takes what symmetric padding cannot",)
        forward = f"{ctx.attr}({x}){crop_index(how.crop)}"
        if same and any(first for first, _ in how.crop):
            notes = (f"{SAME_NOTE}; at stride 1: pad top/left too, crop",)
        elif any(last for _, last in how.crop):
            notes = (*notes, "the last window would start in that padding: dropped")
        init_notes = (SAME_NOTE + ": ceil_mode takes it",) if same and how.ceil else ()
        return Lowered(forward, call, notes=init_notes, forward_notes=notes)

    return row


def same_padded_explicitly(ctx: Ctx, kind: str, cls: str) -> Lowered:
    """TF ``same`` written out, for windows the symmetric plan cannot reach (e.g. a pad larger
    than half the pool): pad explicitly (-inf for max) and pool without padding; an average is
    divided by the pooled count of real cells, so padded cells never count."""
    pads, (size, strides) = ctx.op.pads(ctx.in_shape), ctx.op.window()
    ceil = ctx.op.rounding == "ceil"
    for axis, n in enumerate(ctx.in_shape[:-1]):
        got = window_output(n + sum(pads[axis]), size[axis], strides[axis], 1, (0, 0), ceil)
        if got != ctx.layer.output_shape[axis]:
            raise BackendError(
                f"{ctx.layer.name}: PyTorch pooling cannot express padding same "
                f"with rounding {ctx.op.rounding} on input {ctx.in_shape}"
            )
    call = Call(cls, [], [("kernel_size", ctx.value("pool_size"))])
    if ctx.op.strides is not None:
        call.kwargs.append(("stride", ctx.value("strides")))
    if ceil:
        call.kwargs.append(("ceil_mode", "True"))
    x, pad = ctx.inputs[0], pyrepr(pad_argument(pads))
    if kind == "max":
        forward = f'{ctx.attr}(F.pad({x}, {pad}, value=float("-inf")))'
    else:
        cells = f"F.pad(torch.ones_like({x}[:, :1]), {pad})"
        forward = f"{ctx.attr}(F.pad({x}, {pad})) / {ctx.attr}({cells})"
    return Lowered(forward, call, forward_notes=(f"{SAME_NOTE}: padded here",))


def adaptive_avg_pool(ctx: Ctx) -> Lowered:
    call = Call("nn.AdaptiveAvgPool2d", [ctx.value("output_size")])
    return Lowered(f"{ctx.attr}({ctx.inputs[0]})", call)


def global_pool(method: str) -> Callable[[Ctx], Lowered]:
    def row(ctx: Ctx) -> Lowered:
        keep = ", keepdim=True" if ctx.op.keepdims else ""
        return Lowered(f"{ctx.inputs[0]}.{method}(dim=(2, 3){keep})")

    return row
