"""Transposed convolutions from PyTorch and ONNX: they say which part of the full output they
keep with padding and output_padding; archspec's ``conv2d_transpose`` says it the Keras way
(valid or same, optional output_padding). One function finds the Keras form with the same crops
for both sources, or refuses."""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.importers.model import Origin
from archspec.ops.shapes import transpose_crops

Result = tuple[str, dict[str, Any], list[Any]] | None


def _int_or_pair(value: list[int]) -> Any:
    return value[0] if len(set(value)) == 1 else value


def transpose_fields(
    weight: np.ndarray,
    bias: np.ndarray | None,
    input_hw: tuple[int, ...],
    strides: list[int],
    dilation: list[int],
    crops: list[tuple[int, int]],
    origin: Origin,
) -> Result:
    """A transposed convolution given as PyTorch/ONNX crops of its full output ((before, after)
    per axis; a negative after adds positions) -> ``conv2d_transpose`` with the padding and
    output_padding whose Keras crops are the same, or refused. Weight ``(in, out, kh, kw)`` ->
    the IR's ``(kh, kw, out, in)``."""
    kernel = list(weight.shape[2:])
    k_eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    for padding, explicit in (("valid", False), ("same", False), ("valid", True), ("same", True)):
        # explicit: the output_padding that gives torch's length (Keras: full - 2 pad + o)
        pads = [k // 2 if padding == "same" else 0 for k in k_eff]
        extras = [2 * p - b - a for p, (b, a) in zip(pads, crops, strict=True)]
        if explicit and any(not 0 <= e < s for e, s in zip(extras, strides, strict=True)):
            continue
        given = extras if explicit else [None] * len(kernel)
        found = [
            transpose_crops(n, k, s, d, padding == "same", o)
            for n, k, s, d, o in zip(input_hw, kernel, strides, dilation, given, strict=True)
        ]
        if found != [tuple(c) for c in crops]:
            continue
        fields = {
            "filters": weight.shape[1],
            "kernel_size": _int_or_pair(kernel),
            "strides": _int_or_pair(strides),
            "padding": padding,
            "output_padding": _int_or_pair(extras) if explicit else None,
            "dilation_rate": _int_or_pair(dilation),
            "use_bias": bias is not None,
        }
        kernel_ir = np.ascontiguousarray(weight.transpose(2, 3, 1, 0))
        return "conv2d_transpose", fields, [kernel_ir, *([bias] if bias is not None else [])]
    raise origin.error(
        f"transposed convolution keeping {crops} of its full output: Keras's valid and same "
        "crop otherwise (TensorFlow puts an odd crop at the end)"
    )
