"""Resampling and cropping of images: upsampling2d, cropping2d."""

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from archspec.ops.base import NonNegative, Op, Pair, ShapeError, Size, check_rank
from archspec.ops.shapes import Pads, Shape, as_tuple, product, resolve_pads


class UpSampling2D(Op):
    """Repeat (nearest) or interpolate (bilinear) height and width by integer factors.

    NOTE: bilinear uses half-pixel centres without corner alignment: source coordinate
    ``(dst + 0.5) / size - 0.5``, clamped at the edges. That is Keras's ``UpSampling2D``
    (``ops.image.resize``), PyTorch's ``interpolate(align_corners=False)`` and ONNX's
    ``Resize`` with ``half_pixel``; nearest repeats each pixel ``size`` times in all three.
    """

    kind = "upsampling2d"
    family = "spatial"
    size: Size | Pair = Field(2, description="Factor per axis (height, width).")
    interpolation: Literal["nearest", "bilinear"] = Field(
        "nearest", description="nearest (repeat) or bilinear (half-pixel, corners not aligned)."
    )
    key_fields = ("size", "interpolation")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [3], self.kind)
        height, width = as_tuple(self.size, 2)
        return (inputs[0][0] * height, inputs[0][1] * width, inputs[0][2])

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output) * (4 if self.interpolation == "bilinear" else 0)


class Cropping2D(Op):
    """Drop rows and columns at the edges: an int, [h, w], or [[top, bottom], [left, right]],
    as Keras's ``Cropping2D`` (U-Net's skip connections with valid convolutions)."""

    kind = "cropping2d"
    family = "spatial"
    cropping: NonNegative | list[NonNegative] | list[list[NonNegative]] = Field(
        description="Rows/columns to drop at each edge."
    )
    key_fields = ("cropping",)

    def crops(self) -> Pads:
        """((top, bottom), (left, right))."""
        return resolve_pads(self.cropping, (0, 0), (1, 1), (1, 1), (1, 1))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [3], self.kind)
        if isinstance(self.cropping, list) and (
            len(self.cropping) != 2
            or any(isinstance(p, list) and len(p) != 2 for p in self.cropping)
        ):
            raise ShapeError(
                f"cropping must be an int, [h, w] or [[t, b], [l, r]], got {self.cropping}",
                "cropping",
            )
        (top, bottom), (left, right) = self.crops()
        height, width, channels = inputs[0]
        if top + bottom >= height or left + right >= width:
            raise ShapeError(
                f"cropping {self.cropping} leaves nothing of input {inputs[0]}", "cropping"
            )
        return (height - top - bottom, width - left - right, channels)
