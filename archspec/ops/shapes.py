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
    out = math.ceil(size / stride)
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
    if span < 0:
        return 0
    if not ceil:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pads[0]:
        out -= 1
    return out


def product(values: Sequence[int]) -> int:
    """The number of elements in a shape."""
    return math.prod(values)
