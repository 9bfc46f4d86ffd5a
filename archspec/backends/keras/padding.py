"""Padding in Keras for the IR's padding forms: native ``valid``/``same`` where they are exact,
else a helper layer ``<node>_pad`` (zeros for convolutions and average pooling, -inf for max
pooling, as PyTorch pads) in front of a ``valid`` layer.
"""

from __future__ import annotations

from typing import Any

from archspec.backends import BackendError
from archspec.backends.keras.calls import Call, Values
from archspec.frontend.names import HELPER_SUFFIXES  # reserved there for this layer's name
from archspec.ops.shapes import Pads, as_tuple, effective_kernel, window_output
from archspec.passes.check import LayerReport


def pad_call(layer: LayerReport, func: str, padding: Any) -> Call:
    """A helper padding layer ``<node>_pad`` in front of the node's layer."""
    return Call(func, kwargs=(("padding", padding),), name=layer.name + HELPER_SUFFIXES[0])


# --- padding ---------------------------------------------------------------------------------


def same_at_stride_one(pads: Pads, kernel: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """Explicit pads that are exactly Keras's ``same`` for every input size.

    At stride 1, ``same`` pads ``k - 1`` in total whatever the input size, the odd one after.
    """
    return all(s == 1 for s in strides) and all(
        p == ((k - 1) // 2, k - 1 - (k - 1) // 2) for p, k in zip(pads, kernel, strict=True)
    )


def explicit_form(v: Values, rank: int) -> Any:
    """The IR's explicit padding in ZeroPadding1D/2D's own form (int, pairs or per-axis)."""
    value = v.layer.node.op.padding
    return v("padding.0") if rank == 1 and isinstance(value, list) else v("padding")


def conv_padding(layer: LayerReport, v: Values, rank: int) -> tuple[list[Call], Any]:
    """(helper layers, Keras ``padding``) for a convolution: zeros, as the IR says."""
    op = layer.node.op
    if op.padding in ("valid", "same"):
        return [], v("padding")
    pads = op.pads(layer.input_shapes[0])
    kernel = tuple(
        effective_kernel(k, d)
        for k, d in zip(
            as_tuple(op.kernel_size, rank), as_tuple(op.dilation_rate, rank), strict=True
        )
    )
    if all(p == (0, 0) for p in pads):
        return [], "valid"
    if same_at_stride_one(pads, kernel, as_tuple(op.strides, rank)):
        return [], "same"
    return [pad_call(layer, f"layers.ZeroPadding{rank}D", explicit_form(v, rank))], "valid"


def pool_padding(layer: LayerReport, v: Values) -> tuple[list[Call], Any]:
    """(helper layers, Keras ``padding``) for max/avg pooling with PyTorch's explicit-padding
    semantics (-inf for max, counted zeros for average) and ceil rounding."""
    op = layer.node.op
    size, strides = op.window()
    pads = op.pads(layer.input_shapes[0])
    spatial = layer.input_shapes[0][:2]
    floor = tuple(
        window_output(n, k, s, 1, p)
        for n, k, s, p in zip(spatial, size, strides, pads, strict=True)
    )
    is_max = layer.kind == "max_pool2d"
    # Over values >= 0, zeros pad a max pool exactly as -inf does: a stock layer suffices.
    positive = layer.node.inputs[0] in v.non_negative
    neg_inf = "layers.ZeroPadding2D" if positive else "NegInfPadding2D"
    if floor != layer.output_shape[:2]:
        if not is_max:
            raise BackendError(
                f"node {layer.name!r}: avg_pool2d with rounding: ceil adds a partial window "
                "whose PyTorch divisor Keras cannot reproduce; use rounding: floor, or max_pool2d"
            )
        extra = [
            max(0, (o - 1) * s + k - (n + p[0] + p[1]))
            for o, s, k, n, p in zip(
                layer.output_shape[:2], strides, size, spatial, pads, strict=True
            )
        ]
        grown = tuple((p[0], p[1] + e) for p, e in zip(pads, extra, strict=True))
        return [pad_call(layer, neg_inf, grown)], "valid"
    if op.padding in ("valid", "same"):
        return [], v("padding")
    if all(p == (0, 0) for p in pads):
        return [], "valid"
    if is_max and same_at_stride_one(pads, size, strides):
        return [], "same"
    helper = neg_inf if is_max else "layers.ZeroPadding2D"
    return [pad_call(layer, helper, explicit_form(v, 2))], "valid"
