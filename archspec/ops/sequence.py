"""Sequences of tokens (tokens, features): class_token, position_embedding,
multi_head_attention, permute, take. With conv2d (patches) and reshape they make a ViT."""

from collections.abc import Sequence
from typing import Annotated, Self

from pydantic import Field, model_validator

from archspec.ops.base import (
    Initializer,
    InitializerSpec,
    Op,
    ShapeError,
    Size,
    Weight,
    check_rank,
)
from archspec.ops.shapes import Shape, product

Probability = Annotated[float, Field(ge=0, lt=1)]


class ClassToken(Op):
    """Prepend a learned token: (L, D) -> (L + 1, D), as torchvision's ViT ``class_token``
    (zeros at the start)."""

    kind = "class_token"
    family = "sequence"
    token_initializer: Initializer = "zeros"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [2], self.kind)
        return (inputs[0][0] + 1, inputs[0][1])

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        return [Weight("token", (inputs[0][1],))]


class PositionEmbedding(Op):
    """Add a learned embedding per position: (L, D) + (L, D), as torchvision's ViT
    ``pos_embedding`` (normal, std 0.02 at the start)."""

    kind = "position_embedding"
    family = "sequence"
    embedding_initializer: Initializer = InitializerSpec(name="random_normal", stddev=0.02)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [2], self.kind)
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        return [Weight("embedding", inputs[0])]

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output)


class MultiHeadAttention(Op):
    """Self-attention over a sequence (L, D), as Keras's ``MultiHeadAttention(x, x)`` and
    PyTorch's ``nn.MultiheadAttention(x, x, x)``.

    Each head projects to ``key_dim = D / num_heads``, takes ``softmax(q k^T / sqrt(key_dim))``
    (attention ``dropout`` in training) and the heads are projected back to D. Weights are
    Keras's: query, key, value kernels (D, heads, key_dim) with biases (heads, key_dim), output
    kernel (heads, key_dim, D) and bias (D,); PyTorch packs the three input projections into
    ``in_proj_weight`` (3D, D), and transfer_weights maps one onto the other.
    """

    kind = "multi_head_attention"
    family = "sequence"
    num_heads: Size = Field(description="Number of attention heads.")
    key_dim: Size | None = Field(
        None, description="Size of each head; null = features / num_heads (PyTorch's only form)."
    )
    dropout: Probability = Field(0.0, description="Dropout on the attention weights (training).")
    use_bias: bool = Field(True, description="Biases on the four projections.")
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    key_fields = ("num_heads", "key_dim", "dropout")

    def head_size(self, features: int) -> int:
        return self.key_dim if self.key_dim is not None else features // self.num_heads

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        check_rank(inputs, [2], self.kind)
        features = inputs[0][1]
        if self.head_size(features) * self.num_heads != features:
            raise ShapeError(
                f"num_heads {self.num_heads} x key_dim {self.head_size(features)} must equal the "
                f"{features} features (PyTorch's nn.MultiheadAttention has no other form)",
                "key_dim" if self.key_dim is not None else "num_heads",
            )
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        features = inputs[0][1]
        heads = (self.num_heads, self.head_size(features))
        found = []
        for name in ("query", "key", "value"):
            found.append(Weight(f"{name}_kernel", (features, *heads)))
            if self.use_bias:
                found.append(Weight(f"{name}_bias", heads))
        found.append(Weight("output_kernel", (*heads, features)))
        if self.use_bias:
            found.append(Weight("output_bias", (features,)))
        return found

    def initializer(self, weight: Weight) -> Initializer:
        return self.kernel_initializer if "kernel" in weight.name else self.bias_initializer

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        length, features = inputs[0]
        return 4 * length * features * features + 2 * length * length * features


class Permute(Op):
    """Reorder the axes (batch excluded), as Keras's ``Permute``: ``dims`` numbers the axes
    from 1, e.g. [2, 1] swaps (L, D) to (D, L)."""

    kind = "permute"
    family = "sequence"
    dims: Annotated[list[Size], Field(min_length=1, max_length=4)] = Field(
        description="The input axis (from 1) that each output axis takes."
    )
    key_fields = ("dims",)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        rank = len(inputs[0])
        if sorted(self.dims) != list(range(1, rank + 1)):
            raise ShapeError(
                f"dims {self.dims} must order the axes 1..{rank} of input {inputs[0]}", "dims"
            )
        return tuple(inputs[0][d - 1] for d in self.dims)


class Take(Op):
    """One position along an axis, which disappears: ``take: {index: 0}`` on (L, D) gives the
    class token (D,), as ``x[:, 0]`` in torchvision's ViT."""

    kind = "take"
    family = "sequence"
    index: int = Field(description="Position; negative counts from the end.")
    axis: int = Field(0, description="Axis, batch excluded (0 = tokens).")
    key_fields = ("index", "axis")

    @model_validator(mode="after")
    def _axis(self) -> Self:
        if self.axis < 0:
            raise ValueError("axis counts from 0, batch excluded")
        return self

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = inputs[0]
        if self.axis >= len(shape) or len(shape) < 2:
            raise ShapeError(f"axis {self.axis} is out of range for input {shape}", "axis")
        if not -shape[self.axis] <= self.index < shape[self.axis]:
            raise ShapeError(
                f"index {self.index} is outside axis {self.axis} of size {shape[self.axis]}",
                "index",
            )
        return shape[: self.axis] + shape[self.axis + 1 :]
