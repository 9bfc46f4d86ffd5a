"""Fixed and learned rescaling: rescaling, normalization, layer_scale."""

from collections.abc import Sequence
from typing import Annotated, Self

from pydantic import Field, model_validator

from archspec.ops.base import Initializer, InitializerSpec, Op, ShapeError, Weight
from archspec.ops.shapes import Shape, product

PerChannel = float | Annotated[list[float], Field(min_length=1)]
# Keras's backend.epsilon(): Normalization divides by max(sqrt(variance), this).
KERAS_EPSILON = 1e-7


def _channels(value: PerChannel | None, channels: int, field: str) -> None:
    if isinstance(value, list) and len(value) not in (1, channels):
        raise ShapeError(
            f"{field} has {len(value)} values for {channels} channels (give 1 or {channels})",
            field,
        )


class Rescaling(Op):
    """``x * scale + offset``, as Keras's ``Rescaling`` (preprocessing inside the model, or a
    scaled residual branch: ``rescaling: {scale: 0.17}`` then ``add``).

    ``scale`` and ``offset`` are a number or one value per channel.
    """

    kind = "rescaling"
    family = "scale"
    scale: PerChannel = Field(description="Multiplier, e.g. 1/255 (or one per channel).")
    offset: PerChannel = Field(0.0, description="Added after scaling (or one per channel).")
    key_fields = ("scale", "offset")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        _channels(self.scale, inputs[0][-1], "scale")
        _channels(self.offset, inputs[0][-1], "offset")
        return inputs[0]

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output)


class Normalization(Op):
    """``(x - mean) / max(sqrt(variance), 1e-7)`` per channel, as Keras's ``Normalization``.

    With ``mean`` and ``variance`` given they are constants (no weights, as in Keras). Without
    them the layer holds Keras's adapted state as non-trainable weights ``mean`` (zeros),
    ``variance`` (ones) and ``count`` (a scalar), which ``transfer_weights`` carries (PyTorch
    buffers): ``keras.applications.EfficientNetB0`` starts this way.
    """

    kind = "normalization"
    family = "scale"
    mean: PerChannel | None = Field(None, description="Per-channel mean; null = adapted weights.")
    variance: PerChannel | None = Field(
        None, description="Per-channel variance (given with mean); the divisor is its sqrt."
    )
    key_fields = ("mean", "variance")

    @model_validator(mode="after")
    def _both(self) -> Self:
        if (self.mean is None) != (self.variance is None):
            raise ValueError("give both mean and variance, or neither (adapted weights)")
        sizes = [len(v) if isinstance(v, list) else None for v in (self.mean, self.variance)]
        if sizes[0] != sizes[1]:
            raise ValueError("mean and variance need the same shape (Keras requires it)")
        return self

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        _channels(self.mean, inputs[0][-1], "mean")
        _channels(self.variance, inputs[0][-1], "variance")
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        if self.mean is not None:
            return []
        channels = (inputs[0][-1],)
        return [
            Weight("mean", channels, trainable=False),
            Weight("variance", channels, trainable=False),
            Weight("count", (), trainable=False),
        ]

    def initializer(self, weight: Weight) -> Initializer:
        return "ones" if weight.name == "variance" else "zeros"

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output)


class LayerScale(Op):
    """A learned per-channel scale ``x * gamma`` (ConvNeXt's and CaiT's LayerScale), gamma
    starting at ``init_value``."""

    kind = "layer_scale"
    family = "scale"
    init_value: float = Field(1e-6, description="Initial value of every gamma.")
    key_fields = ("init_value",)

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        return [Weight("gamma", (inputs[0][-1],))]

    def initializer(self, weight: Weight) -> Initializer:
        return InitializerSpec(name="constant", value=self.init_value)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output)
