"""Core ops: input, dense, activations, dropout, flatten, reshape."""

from collections.abc import Sequence
from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from archspec.ops.base import (
    ActivationName,
    Initializer,
    Op,
    Regularizer,
    ShapeError,
    Size,
    Weight,
)
from archspec.ops.shapes import Shape, product


class Input(Op):
    """The model input: its shape without the batch dimension, channels_last."""

    kind = "input"
    min_inputs = 0
    max_inputs = 0
    shape: Annotated[list[Size], Field(min_length=1, max_length=4)] = Field(
        description="Input shape without batch, channels_last, e.g. [224, 224, 3]."
    )
    key_fields = ("shape",)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return tuple(self.shape)


class Dense(Op):
    """Fully connected layer on a flat (features,) input, or on each position of a sequence
    (tokens, features), as Keras's ``Dense`` and PyTorch's ``Linear`` act on the last axis."""

    kind = "dense"
    units: Size = Field(description="Number of output features.")
    activation: ActivationName | None = Field(None, description="Activation applied after.")
    use_bias: bool = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    key_fields = ("units", "activation")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if len(inputs[0]) not in (1, 2):
            raise ShapeError(
                f"dense takes a flat (features,) input, got shape {inputs[0]}",
                hint="add a flatten or global pooling layer before it",
            )
        return (*inputs[0][:-1], self.units)

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        found = [Weight("kernel", (inputs[0][-1], self.units))]
        if self.use_bias:
            found.append(Weight("bias", (self.units,)))
        return found

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(inputs[0]) * self.units


class Activation(Op):
    """An elementwise activation (softmax: over channels)."""

    kind = "activation"
    function: ActivationName = Field(description="Which activation.")
    key_fields = ("function",)


class _Named(Op):
    """Shorthand ops such as ``relu: {}``, identical to ``activation: {function: relu}``."""

    function: ClassVar[str]


def _shorthand(name: str, doc: str) -> type[_Named]:
    return type(
        name.title().replace("_", ""), (_Named,), {"kind": name, "function": name, "__doc__": doc}
    )


ReLU = _shorthand("relu", "max(x, 0).")
ReLU6 = _shorthand("relu6", "min(max(x, 0), 6).")
GELU = _shorthand("gelu", "Gaussian error linear unit, exact (erf) form.")
Sigmoid = _shorthand("sigmoid", "1 / (1 + exp(-x)).")
Tanh = _shorthand("tanh", "Hyperbolic tangent.")
SiLU = _shorthand("silu", "x * sigmoid(x) (swish).")
Swish = _shorthand("swish", "x * sigmoid(x): silu under Keras's other name.")
# NOTE: Keras 3 (ops.hard_sigmoid since 3.0) and PyTorch (F.hardsigmoid) agree on
# relu6(x + 3) / 6; Keras 2's hard_sigmoid was 0.2 * x + 0.5, a different function.
HardSigmoid = _shorthand("hard_sigmoid", "relu6(x + 3) / 6, as Keras 3 and F.hardsigmoid.")
HardSwish = _shorthand("hard_swish", "x * relu6(x + 3) / 6, as Keras 3 and F.hardswish.")
Softmax = _shorthand("softmax", "Softmax over the channel axis.")


class LeakyReLU(_Named):
    """x if x > 0 else negative_slope * x."""

    kind = "leaky_relu"
    function = "leaky_relu"
    negative_slope: Annotated[float, Field(ge=0)] = Field(0.2, description="Slope below zero.")
    key_fields = ("negative_slope",)


class ELU(_Named):
    """x if x > 0 else alpha * (exp(x) - 1)."""

    kind = "elu"
    function = "elu"
    alpha: float = Field(1.0, description="Scale of the negative part.")
    key_fields = ("alpha",)


class Dropout(Op):
    """Zeroes a fraction ``rate`` of inputs in training; identity in inference.

    ``per_sample`` drops whole samples instead of single values (stochastic depth, the
    "drop connect" of EfficientNet): Keras's ``noise_shape=(None, 1, ..., 1)``.
    """

    kind = "dropout"
    rate: Annotated[float, Field(ge=0, lt=1)] = Field(description="Fraction dropped, in [0, 1).")
    per_sample: bool = Field(
        False, description="Drop whole samples (Keras noise_shape (None, 1, ...)), not values."
    )
    key_fields = ("rate", "per_sample")


class Flatten(Op):
    """Collapse all non-batch axes, in channels_last (h, w, c) order."""

    kind = "flatten"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (product(inputs[0]),)


class Reshape(Op):
    """Reshape to ``target_shape`` (channels_last order; at most one -1)."""

    kind = "reshape"
    target_shape: Annotated[list[int], Field(min_length=1, max_length=4)] = Field(
        description="New shape without batch; one entry may be -1."
    )
    key_fields = ("target_shape",)

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if any(v == 0 or v < -1 for v in self.target_shape) or self.target_shape.count(-1) > 1:
            raise ValueError("target_shape entries must be positive, with at most one -1")
        return self

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        total = product(inputs[0])
        known = product([v for v in self.target_shape if v != -1])
        if -1 in self.target_shape:
            if total % known:
                raise ShapeError(
                    f"cannot reshape {inputs[0]} ({total} values) to {self.target_shape}",
                    "target_shape",
                )
            return tuple(total // known if v == -1 else v for v in self.target_shape)
        if known != total:
            raise ShapeError(
                f"cannot reshape {inputs[0]} ({total} values) to {self.target_shape} ({known})",
                "target_shape",
            )
        return tuple(self.target_shape)
