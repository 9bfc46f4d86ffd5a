"""Merges of several branches: add, multiply, concatenate."""

from collections.abc import Sequence

from pydantic import Field

from archspec.ops.base import Op, ShapeError
from archspec.ops.shapes import Shape, broadcast, product


class _Elementwise(Op):
    family = "merge"
    min_inputs = 2
    max_inputs = None

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        # NOTE: Keras's merge layers broadcast as NumPy does (sizes aligned at the right, 1
        # stretches; a lower-rank input gains leading axes), batch excluded: squeeze-and-excite
        # multiplies (8, 8, 16) by (1, 1, 16).
        out = broadcast(inputs)
        if out is None:
            shapes = ", ".join(str(s) for s in inputs)
            raise ShapeError(
                f"{self.kind} needs shapes that broadcast (equal sizes, or 1), got {shapes}",
                "inputs",
            )
        return out

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return product(output) * (len(inputs) - 1)


class Add(_Elementwise):
    """Elementwise sum of two or more inputs that broadcast (residual connections)."""

    kind = "add"


class Multiply(_Elementwise):
    """Elementwise product of two or more inputs that broadcast (gating, squeeze-excite)."""

    kind = "multiply"


class Concatenate(Op):
    """Join inputs along an axis (default the channel axis); other axes must match."""

    kind = "concatenate"
    family = "merge"
    min_inputs = 2
    max_inputs = None
    axis: int = Field(-1, description="Axis in channels_last order, batch excluded; -1 = channels.")
    key_fields = ("axis",)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        rank = len(inputs[0])
        if not -rank <= self.axis < rank:
            raise ShapeError(f"axis {self.axis} out of range for rank {rank}", "axis")
        axis = self.axis % rank

        def drop(s: Shape) -> Shape:
            return s[:axis] + s[axis + 1 :]

        if any(len(s) != rank or drop(s) != drop(inputs[0]) for s in inputs):
            shapes = ", ".join(str(s) for s in inputs)
            raise ShapeError(
                f"concatenate on axis {self.axis} needs the other axes equal, got {shapes}",
                "inputs",
            )
        return (*inputs[0][:axis], sum(s[axis] for s in inputs), *inputs[0][axis + 1 :])
