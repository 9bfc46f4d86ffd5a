"""Shared size formulas for convolution and pooling, written once for every op and backend."""

from __future__ import annotations

import math
from collections.abc import Sequence

Shape = tuple[int, ...]
Pads = tuple[tuple[int, int], ...]


def as_tuple(value: int | Sequence[int], rank: int) -> tuple[int, ...]:
    """Broadcast an int to ``rank`` entries; pass a sequence through as a tuple."""
    if isinstance(value, int):
        return (value,) * rank
    return tuple(value)


def effective_kernel(kernel: int, dilation: int) -> int:
    """The span a dilated kernel covers."""
    return (kernel - 1) * dilation + 1


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``same`` padding: output ``ceil(size/stride)``, the odd pixel after.

    Total padding is ``max((ceil(n/s) - 1) * s + k_eff - n, 0)``; the smaller half goes before
    (top/left), the larger after (bottom/right). PyTorch needs these pads written out.
    """
    out = -(-size // stride)  # ceil in integers: floats are wrong beyond 2**53
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def resolve_pads(
    padding: str | int | Sequence,
    sizes: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> Pads:
    """Resolve any padding form (valid, same, int, per-axis, explicit pairs) to (before, after)."""
    rank = len(sizes)
    if padding == "valid":
        return ((0, 0),) * rank
    if padding == "same":
        return tuple(
            same_pads(n, k, s, d)
            for n, k, s, d in zip(sizes, kernel, strides, dilation, strict=True)
        )
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    return tuple((p, p) if isinstance(p, int) else (p[0], p[1]) for p in padding)


def window_output(
    size: int, kernel: int, stride: int, dilation: int, pads: tuple[int, int], ceil: bool = False
) -> int:
    """Output length of a sliding window (conv or pool) over one padded axis.

    With ``ceil`` (Caffe, PyTorch ``ceil_mode``) a last partial window counts, but only if it
    starts inside the input or the leading padding, as PyTorch rules.
    """
    span = size + pads[0] + pads[1] - effective_kernel(kernel, dilation)
    if not ceil:
        return span // stride + 1 if span >= 0 else 0
    # NOTE: PyTorch's pooling_output_shape: floor((span + stride - 1) / stride) + 1 rounding
    # towards -inf, so a window wider than its padded input still gives one output (GoogLeNet
    # at 15x15), then one less if the last window starts past the input and leading padding.
    out = (span + stride - 1) // stride + 1
    if (out - 1) * stride >= size + pads[0]:
        out -= 1
    return max(out, 0)


def transpose_crops(
    size: int, kernel: int, stride: int, dilation: int, same: bool, output_padding: int | None
) -> tuple[int, int]:
    """What a Keras (TensorFlow) transposed convolution keeps of its full output, per axis.

    The full output is ``(n - 1) * s + k_eff`` long. Keras's length is ``n * s`` (same) or
    ``n * s + max(k_eff - s, 0)`` (valid), or with ``output_padding`` ``(n - 1) * s + k_eff -
    2 * pad + output_padding`` (pad = ``k_eff // 2`` for same, else 0). TensorFlow crops
    ``total // 2`` before, ``total = max(full - length, 0)`` as for a same conv, and fills
    positions past the full output with zeros. Returns (before, after); a negative ``after``
    is that many zero positions added at the end.
    """
    k_eff = effective_kernel(kernel, dilation)
    full = (size - 1) * stride + k_eff
    if output_padding is None:
        length = size * stride if same else size * stride + max(k_eff - stride, 0)
    else:
        length = full - 2 * (k_eff // 2 if same else 0) + output_padding
    before = max(full - length, 0) // 2 if same else 0
    return before, full - before - length


def broadcast(shapes: Sequence[Shape]) -> Shape | None:
    """NumPy's (and Keras's merge layers') broadcast of shapes aligned at the right, or None
    when two sizes differ and neither is 1."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for sizes in zip(*padded, strict=True):
        wide = {n for n in sizes if n != 1}
        if len(wide) > 1:
            return None
        out.append(wide.pop() if wide else 1)
    return tuple(out)


def product(values: Sequence[int]) -> int:
    """The number of elements in a shape."""
    return math.prod(values)
