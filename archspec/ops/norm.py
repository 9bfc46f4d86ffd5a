"""Normalisation: batch_norm, layer_norm, local_response_norm."""

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from archspec.ops.base import Initializer, Op, Regularizer, Size, Weight, check_rank
from archspec.ops.shapes import Shape, product

Positive = Annotated[float, Field(gt=0)]


class BatchNorm(Op):
    """Batch normalisation over the channel axis, with Keras's defaults made explicit.

    ``momentum`` is Keras's: ``moving = momentum * moving + (1 - momentum) * batch``; PyTorch's
    momentum is ``1 - momentum``. Moving mean and variance are non-trainable parameters in Keras
    and buffers in PyTorch.
    """

    kind = "batch_norm"
    family = "norm"
    epsilon: Positive = Field(1e-3, description="Added to the variance (Keras 1e-3, PyTorch 1e-5).")
    momentum: Annotated[float, Field(ge=0, le=1)] = Field(
        0.99, description="Keras momentum of the moving statistics (PyTorch's is 1 - this)."
    )
    center: bool = Field(True, description="Learn an offset (beta).")
    scale: bool = Field(True, description="Learn a scale (gamma).")
    gamma_initializer: Initializer = "ones"
    beta_initializer: Initializer = "zeros"
    moving_mean_initializer: Initializer = "zeros"
    moving_variance_initializer: Initializer = "ones"
    gamma_regularizer: Regularizer | None = None
    beta_regularizer: Regularizer | None = None
    key_fields = ("epsilon", "momentum")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [1, 2, 3], self.kind)
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        channels = (inputs[0][-1],)
        found = []
        if self.scale:
            found.append(Weight("gamma", channels))
        if self.center:
            found.append(Weight("beta", channels))
        found += [
            Weight("moving_mean", channels, trainable=False),
            Weight("moving_variance", channels, trainable=False),
        ]
        return found

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output)


class LayerNorm(Op):
    """Layer normalisation over the channel (last) axis."""

    kind = "layer_norm"
    family = "norm"
    epsilon: Positive = Field(1e-3, description="Added to the variance (Keras 1e-3, PyTorch 1e-5).")
    center: bool = True
    scale: bool = True
    gamma_initializer: Initializer = "ones"
    beta_initializer: Initializer = "zeros"
    key_fields = ("epsilon",)

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        channels = (inputs[0][-1],)
        return [
            Weight(n, channels) for n, on in (("gamma", self.scale), ("beta", self.center)) if on
        ]

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return 2 * product(output)


class LocalResponseNorm(Op):
    """Local response normalisation across channels, in Caffe's and PyTorch's form.

    ``b_c = a_c / (k + alpha / size * sum_{c' in window(c)} a_c'^2) ** beta``; the window spans
    ``size`` channels centred on c (``size // 2`` before, ``(size - 1) // 2`` after). NOTE:
    alpha is divided by size here, as in PyTorch and Caffe; TensorFlow's form does not divide.
    """

    kind = "local_response_norm"
    family = "norm"
    size: Size = Field(5, description="Channels in the window.")
    alpha: Positive = Field(1e-4, description="Scale (divided by size).")
    beta: Positive = Field(0.75, description="Exponent.")
    k: Positive = Field(1.0, description="Additive constant (bias).")
    key_fields = ("size", "alpha", "beta", "k")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [2, 3], self.kind)
        return inputs[0]

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output) * self.size
