"""What a PyTorch lowering row reads (``Ctx``) and returns (``Lowered``, holding ``Call``s), and
the small expression helpers the rows share. Tensors are channels first in PyTorch: an IR shape
``(*spatial, C)`` is ``(N, C, *spatial)``; a flat ``(F,)`` stays ``(N, F)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archspec.codegen.common import pyrepr
from archspec.codegen.layout import wrap
from archspec.ops.shapes import Pads, Shape
from archspec.passes.check import LayerReport


@dataclass
class Call:
    """``func(args..., key=value...)`` with every argument already written as code."""

    func: str
    args: list[str] = field(default_factory=list)
    kwargs: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self) -> list[str]:
        return [*self.args, *(f"{key}={value}" for key, value in self.kwargs)]

    def __str__(self) -> str:
        return f"{self.func}({', '.join(self.arguments())})"


def assign(depth: int, target: str, call: Call) -> list[str]:
    """``target = call`` as ruff would format it."""
    return wrap(depth, f"{target} = {call.func}(", call.arguments(), ")")


@dataclass
class Ctx:
    """What a row sees: the layer, its input variables and how params are written."""

    layer: LayerReport
    inputs: tuple[str, ...]
    symbolic: dict[str, str] = field(default_factory=dict)  # param -> identifier in __init__
    channels_first_flatten: bool = False

    @property
    def op(self) -> Any:
        return self.layer.node.op

    @property
    def attr(self) -> str:
        return f"self.{self.layer.name}"

    @property
    def in_shape(self) -> Shape:
        return self.layer.input_shapes[0]

    def value(self, name: str) -> str:
        """An op field as code: the param's name when the field holds a symbolic param."""
        param = self.layer.node.param_refs.get(name)
        if param in self.symbolic:
            return self.symbolic[param]
        return pyrepr(getattr(self.op, name))

    def keyword(self, call: Call, key: str, name: str, default: Any) -> None:
        """Add ``key=<field>`` unless the field is a literal equal to PyTorch's default."""
        symbolic = self.layer.node.param_refs.get(name) in self.symbolic
        value = getattr(self.op, name)
        if symbolic or value not in (default, [default] * 2):
            call.kwargs.append((key, self.value(name)))


@dataclass
class Lowered:
    """A layer in PyTorch: ``module`` becomes ``self.<node>``, ``forward`` its output."""

    forward: str
    module: Call | None = None
    setup: tuple[str, ...] = ()  # statements after the module, e.g. a lone BatchNorm bias
    notes: tuple[str, ...] = ()  # why the module looks the way it does (in __init__)
    forward_notes: tuple[str, ...] = ()  # why the forward line does (in forward)
    helpers: frozenset[str] = frozenset()  # generated helpers it needs (SeparableConv2d)


def torch_shape(shape: Shape) -> tuple[int, ...]:
    """The PyTorch shape (batch excluded) of an IR (channels_last) shape."""
    return tuple(shape) if len(shape) < 2 else (shape[-1], *shape[:-1])


def torch_dim(axis: int, rank: int) -> int:
    """PyTorch dim (batch included) of an IR axis (batch excluded, channels_last)."""
    axis %= rank
    if rank == 1 or axis == rank - 1:
        return 1
    return axis + 2


def pad_argument(pads: Pads) -> tuple[int, ...]:
    """``F.pad``'s argument: (before, after) pairs, last axis first."""
    return tuple(value for pair in reversed(pads) for value in pair)


def symmetric_padding(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """A conv/pool ``padding`` argument from per-axis pads (one int when all axes agree)."""
    return values[0] if len(set(values)) == 1 else values


def activate(function: str | None, expr: str) -> str:
    """Apply a named activation (Keras's defaults: leaky slope 0.2, elu alpha 1) to ``expr``."""
    if function in (None, "linear"):
        return expr
    calls = {
        "relu": "F.relu({})",
        "relu6": "F.relu6({})",
        "leaky_relu": "F.leaky_relu({}, 0.2)",
        "elu": "F.elu({})",
        "gelu": "F.gelu({})",
        "sigmoid": "torch.sigmoid({})",
        "tanh": "torch.tanh({})",
        "silu": "F.silu({})",
        "swish": "F.silu({})",
        "hard_sigmoid": "F.hardsigmoid({})",
        "hard_swish": "F.hardswish({})",
        "softmax": "F.softmax({}, dim=1)",
    }
    return calls[function].format(expr)


def channels_last(expr: str, rank: int) -> str:
    """``expr`` with channels moved last (no-op for flat tensors)."""
    return f"{expr}.movedim(1, -1)" if rank >= 2 else expr


def channels_first(expr: str, rank: int) -> str:
    return f"{expr}.movedim(-1, 1)" if rank >= 2 else expr
