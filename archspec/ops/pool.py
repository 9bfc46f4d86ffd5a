"""Pooling: windowed max/average, global pooling, adaptive average pooling, zero padding."""

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from archspec.ops.base import NonNegative, Op, PaddingForm, Pair, ShapeError, Size, check_rank
from archspec.ops.shapes import Pads, Shape, as_tuple, product, resolve_pads, window_output


class _Pool2D(Op):
    family = "pool"
    pool_size: Size | Pair = Field(2, description="Window size.")
    strides: Size | Pair | None = Field(None, description="Step; defaults to pool_size.")
    padding: PaddingForm = Field(
        "valid",
        description="valid, same (TensorFlow's rule; padded cells never win a max and are not "
        "counted in an average), or explicit ints/pairs (PyTorch's rule: -inf for max, zeros "
        "counted in an average).",
    )
    rounding: Literal["floor", "ceil"] = Field(
        "floor",
        description="Output size rounding: floor (Keras, PyTorch default) or ceil (Caffe, "
        "PyTorch ceil_mode).",
    )
    key_fields = ("pool_size", "strides", "padding", "rounding")

    def window(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(pool_size, strides) as pairs."""
        size = as_tuple(self.pool_size, 2)
        return size, as_tuple(self.strides, 2) if self.strides is not None else size

    def pads(self, input_shape: Shape) -> Pads:
        size, strides = self.window()
        return resolve_pads(self.padding, input_shape[:-1], size, strides, (1, 1))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [3], self.kind)
        size, strides = self.window()
        if isinstance(self.padding, list) and len(self.padding) != 2:
            raise ShapeError(f"padding needs 2 entries, got {self.padding}", "padding")
        pads = self.pads(inputs[0])
        if self.padding not in ("valid", "same") and any(
            max(p) > k // 2 for p, k in zip(pads, size, strict=True)
        ):
            raise ShapeError(
                f"explicit padding {self.padding} must be at most half the pool size", "padding"
            )
        out = []
        ceil = self.rounding == "ceil"
        for axis, (n, k, s, p) in enumerate(zip(inputs[0][:-1], size, strides, pads, strict=True)):
            # NOTE: in ceil mode PyTorch accepts a window wider than its padded input as long
            # as one window starts inside it (output >= 1); floor mode needs k <= n + pads.
            length = window_output(n, k, s, 1, p, ceil=ceil)
            if k > n + p[0] + p[1] and length < 1:
                raise ShapeError(
                    f"pool {k} > input {n + p[0] + p[1]} on spatial axis {axis} "
                    f"(input shape {inputs[0]})",
                    "pool_size",
                )
            out.append(length)
        return (*out, inputs[0][-1])

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output) * product(self.window()[0])


class MaxPool2D(_Pool2D):
    """Max over each window, as Keras ``MaxPooling2D`` / PyTorch ``MaxPool2d``."""

    kind = "max_pool2d"


class AvgPool2D(_Pool2D):
    """Mean over each window, as Keras ``AveragePooling2D`` / PyTorch ``AvgPool2d``."""

    kind = "avg_pool2d"


class _GlobalPool2D(Op):
    family = "pool"
    keepdims: bool = Field(
        False, description="Keep height and width as 1: (H, W, C) -> (1, 1, C), as Keras's."
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [3], self.kind)
        return (1, 1, inputs[0][-1]) if self.keepdims else (inputs[0][-1],)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(inputs[0])


class GlobalAvgPool2D(_GlobalPool2D):
    """Mean over all spatial positions: (H, W, C) -> (C,)."""

    kind = "global_avg_pool2d"


class GlobalMaxPool2D(_GlobalPool2D):
    """Max over all spatial positions: (H, W, C) -> (C,)."""

    kind = "global_max_pool2d"


class AdaptiveAvgPool2D(Op):
    """PyTorch's ``AdaptiveAvgPool2d``, accepted where it is plain average pooling.

    Keras has no adaptive pooling; when the input size is a multiple of the output size the
    windows are uniform (kernel = stride = input // output), so both backends agree exactly.
    Otherwise PyTorch's overlapping windows have no Keras equivalent and the spec is refused.
    """

    kind = "adaptive_avg_pool2d"
    family = "pool"
    output_size: Size | Pair = Field(description="Output (H, W).")
    key_fields = ("output_size",)

    def window(self, input_shape: Shape) -> tuple[int, int]:
        """The uniform pool size (== stride) per axis for this input."""
        return tuple(
            n // o for n, o in zip(input_shape[:-1], as_tuple(self.output_size, 2), strict=False)
        )  # type: ignore[return-value]

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [3], self.kind)
        target = as_tuple(self.output_size, 2)
        for n, o in zip(inputs[0][:-1], target, strict=True):
            if n % o:
                raise ShapeError(
                    f"input {inputs[0][:-1]} is not a multiple of output_size {list(target)}",
                    "output_size",
                    hint="only evenly dividing adaptive pooling has an exact Keras equivalent",
                )
        return (*target, inputs[0][-1])

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(inputs[0])


class ZeroPadding2D(Op):
    """Pad height and width with zeros: an int, [h, w], or [[top, bottom], [left, right]]."""

    kind = "zero_padding2d"
    family = "pool"
    padding: NonNegative | list[NonNegative] | list[list[NonNegative]] = Field(
        1, description="Rows/columns of zeros to add."
    )
    key_fields = ("padding",)

    def pads(self) -> Pads:
        return resolve_pads(self.padding, (0, 0), (1, 1), (1, 1), (1, 1))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [3], self.kind)
        if isinstance(self.padding, list) and (
            len(self.padding) != 2 or any(isinstance(p, list) and len(p) != 2 for p in self.padding)
        ):
            raise ShapeError(
                f"padding must be an int, [h, w] or [[t, b], [l, r]], got {self.padding}", "padding"
            )
        (top, bottom), (left, right) = self.pads()
        height, width, channels = inputs[0]
        return (height + top + bottom, width + left + right, channels)
