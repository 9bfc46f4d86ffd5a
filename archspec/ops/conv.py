"""Convolutions: conv1d, conv2d, depthwise_conv2d, separable_conv2d, conv2d_transpose."""

from collections.abc import Sequence
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from archspec.ops.base import (
    ActivationName,
    Initializer,
    NonNegative,
    Op,
    PaddingForm,
    Pair,
    Regularizer,
    ShapeError,
    Size,
    Weight,
    check_rank,
)
from archspec.ops.shapes import (
    Pads,
    Shape,
    as_tuple,
    effective_kernel,
    product,
    resolve_pads,
    transpose_crops,
    window_output,
)


class _Window(Op):
    """Fields and rules shared by every sliding-window op that convolves."""

    family = "conv"
    spatial_rank: ClassVar[int] = 2

    kernel_size: Size | Pair = Field(description="Window size, one int or one per spatial axis.")
    strides: Size | Pair = Field(1, description="Step between windows.")
    padding: PaddingForm = Field(
        "valid",
        description="valid, same (TensorFlow's rule, odd pixel bottom/right), an int, one int "
        "per axis, or explicit [before, after] pairs per axis.",
    )
    dilation_rate: Size | Pair = Field(1, description="Spacing between kernel taps.")
    use_bias: bool = Field(True, description="Add a learned bias per output channel.")
    activation: ActivationName | None = Field(None, description="Activation applied after.")
    bias_initializer: Initializer = "zeros"
    bias_regularizer: Regularizer | None = None

    def _tuple(self, name: str) -> tuple[int, ...]:
        return as_tuple(getattr(self, name), self.spatial_rank)

    def pads(self, input_shape: Shape) -> Pads:
        """Explicit (before, after) padding per spatial axis for this input."""
        return resolve_pads(
            self.padding,
            input_shape[:-1],
            self._tuple("kernel_size"),
            self._tuple("strides"),
            self._tuple("dilation_rate"),
        )

    def _spatial_output(self, input_shape: Shape) -> tuple[int, ...]:
        rank = self.spatial_rank
        check_rank([input_shape], [rank + 1], self.kind)
        for name in ("kernel_size", "strides", "dilation_rate"):
            if len(self._tuple(name)) != rank:
                raise ShapeError(f"{name} needs {rank} values, got {getattr(self, name)}", name)
        if isinstance(self.padding, list) and len(self.padding) != rank:
            raise ShapeError(f"padding needs {rank} entries, got {self.padding}", "padding")
        strides, dilation = self._tuple("strides"), self._tuple("dilation_rate")
        if max(strides) > 1 and max(dilation) > 1:
            raise ShapeError(
                "strides > 1 with dilation_rate > 1 is not supported (Keras refuses it)", "strides"
            )
        pads = self.pads(input_shape)
        out = []
        for axis, (n, k, s, d, p) in enumerate(
            zip(input_shape[:-1], self._tuple("kernel_size"), strides, dilation, pads, strict=True)
        ):
            span = effective_kernel(k, d)
            if span > n + p[0] + p[1]:
                raise ShapeError(
                    f"kernel {span} > input {n + p[0] + p[1]} on spatial axis {axis} "
                    f"(input shape {input_shape}, padding {list(p)})",
                    "kernel_size",
                )
            out.append(window_output(n, k, s, d, p))
        return tuple(out)


class _Conv(_Window):
    filters: Size = Field(description="Number of output channels.")
    groups: Size = Field(1, description="Split channels into groups convolved separately.")
    kernel_initializer: Initializer = "glorot_uniform"
    kernel_regularizer: Regularizer | None = None
    key_fields = ("filters", "kernel_size", "strides", "padding", "groups", "activation")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        spatial = self._spatial_output(inputs[0])
        channels = inputs[0][-1]
        if channels % self.groups or self.filters % self.groups:
            raise ShapeError(
                f"groups={self.groups} must divide both input channels ({channels}) "
                f"and filters ({self.filters})",
                "groups",
            )
        return (*spatial, self.filters)

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        kernel = (*self._tuple("kernel_size"), inputs[0][-1] // self.groups, self.filters)
        found = [Weight("kernel", kernel)]
        if self.use_bias:
            found.append(Weight("bias", (self.filters,)))
        return found

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        per_output = product(self._tuple("kernel_size")) * inputs[0][-1] // self.groups
        return product(output) * per_output


class Conv2D(_Conv):
    """2-D convolution over (H, W, C) input, as Keras ``Conv2D`` / PyTorch ``Conv2d``."""

    kind = "conv2d"


class Conv1D(_Conv):
    """1-D convolution over (L, C) input, as Keras ``Conv1D`` / PyTorch ``Conv1d``."""

    kind = "conv1d"
    spatial_rank = 1


class DepthwiseConv2D(_Window):
    """Per-channel 2-D convolution: ``depth_multiplier`` filters for each input channel."""

    kind = "depthwise_conv2d"
    depth_multiplier: Size = Field(1, description="Output channels per input channel.")
    depthwise_initializer: Initializer = "glorot_uniform"
    depthwise_regularizer: Regularizer | None = None
    key_fields = ("kernel_size", "strides", "padding", "depth_multiplier", "activation")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (*self._spatial_output(inputs[0]), inputs[0][-1] * self.depth_multiplier)

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        channels = inputs[0][-1]
        found = [
            Weight("depthwise", (*self._tuple("kernel_size"), channels, self.depth_multiplier))
        ]
        if self.use_bias:
            found.append(Weight("bias", (channels * self.depth_multiplier,)))
        return found

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output) * product(self._tuple("kernel_size"))


class SeparableConv2D(_Window):
    """Depthwise convolution then a 1x1 pointwise convolution, as Keras ``SeparableConv2D``."""

    kind = "separable_conv2d"
    filters: Size = Field(description="Output channels of the pointwise step.")
    depth_multiplier: Size = Field(1, description="Depthwise channels per input channel.")
    depthwise_initializer: Initializer = "glorot_uniform"
    pointwise_initializer: Initializer = "glorot_uniform"
    depthwise_regularizer: Regularizer | None = None
    pointwise_regularizer: Regularizer | None = None
    key_fields = ("filters", "kernel_size", "strides", "padding", "depth_multiplier", "activation")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (*self._spatial_output(inputs[0]), self.filters)

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        middle = inputs[0][-1] * self.depth_multiplier
        found = [
            Weight(
                "depthwise", (*self._tuple("kernel_size"), inputs[0][-1], self.depth_multiplier)
            ),
            Weight("pointwise", (1, 1, middle, self.filters)),
        ]
        if self.use_bias:
            found.append(Weight("bias", (self.filters,)))
        return found

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        middle = inputs[0][-1] * self.depth_multiplier
        spatial = product(output[:-1])
        return (
            spatial * middle * product(self._tuple("kernel_size")) + spatial * middle * self.filters
        )


class Conv2DTranspose(Op):
    """Transposed 2-D convolution, as Keras ``Conv2DTranspose`` / PyTorch ``ConvTranspose2d``.

    Output sizes follow Keras: ``n * s`` for same, ``n * s + max(k - s, 0)`` for valid, or
    ``(n - 1) * s + k - 2 * pad + output_padding`` when ``output_padding`` is given (pad =
    ``k // 2`` for same). ``crops`` says which rows and columns of the full output are kept,
    so PyTorch and ONNX (padding, output_padding, a slice) compute the very same tensor.
    """

    kind = "conv2d_transpose"
    family = "conv"
    filters: Size = Field(description="Number of output channels.")
    kernel_size: Size | Pair = Field(description="Window size, one int or one per spatial axis.")
    strides: Size | Pair = Field(1, description="Upsampling step.")
    padding: Literal["valid", "same"] = Field(
        "valid", description="valid or same, with Keras's (TensorFlow's) output sizes."
    )
    output_padding: (
        NonNegative | Annotated[list[NonNegative], Field(min_length=2, max_length=2)] | None
    ) = Field(
        None, description="Extra rows/columns at the end (each < strides); null = Keras's rule."
    )
    dilation_rate: Size | Pair = Field(1, description="Spacing between kernel taps.")
    use_bias: bool = Field(True, description="Add a learned bias per output channel.")
    activation: ActivationName | None = Field(None, description="Activation applied after.")
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    key_fields = ("filters", "kernel_size", "strides", "padding", "activation")

    def _pair(self, name: str) -> tuple[int, ...]:
        value = getattr(self, name)
        return None if value is None else as_tuple(value, 2)  # type: ignore[return-value]

    def crops(self, input_shape: Shape) -> Pads:
        """(before, after) kept off the full output per axis; a negative after adds zeros."""
        extra = self._pair("output_padding") or (None, None)
        return tuple(
            transpose_crops(n, k, s, d, self.padding == "same", o)
            for n, k, s, d, o in zip(
                input_shape[:-1],
                self._pair("kernel_size"),
                self._pair("strides"),
                self._pair("dilation_rate"),
                extra,
                strict=True,
            )
        )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [3], self.kind)
        strides, dilation = self._pair("strides"), self._pair("dilation_rate")
        if max(strides) > 1 and max(dilation) > 1:
            raise ShapeError(
                "strides > 1 with dilation_rate > 1 is not supported (Keras refuses it)", "strides"
            )
        extra = self._pair("output_padding")
        if extra is not None and any(o >= s for o, s in zip(extra, strides, strict=True)):
            raise ShapeError(
                f"output_padding {list(extra)} must be smaller than strides {list(strides)} "
                "(Keras and PyTorch both require it)",
                "output_padding",
            )
        out = []
        for n, k, s, d, (before, after) in zip(
            inputs[0][:-1],
            self._pair("kernel_size"),
            strides,
            dilation,
            self.crops(inputs[0]),
            strict=True,
        ):
            out.append((n - 1) * s + effective_kernel(k, d) - before - after)
        return (*out, self.filters)

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        # Keras's layout: (kh, kw, filters, in); PyTorch's is (in, filters, kh, kw).
        found = [Weight("kernel", (*self._pair("kernel_size"), self.filters, inputs[0][-1]))]
        if self.use_bias:
            found.append(Weight("bias", (self.filters,)))
        return found

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(inputs[0]) * product(self._pair("kernel_size")) * self.filters
