"""The op protocol: one pydantic model per layer kind, carrying its schema and its rules.

Each op states, in one class, the fields a spec may give it (with defaults, ranges and
descriptions), how it maps input shapes to its output shape, which weights it owns (hence its
parameter count under Keras's and PyTorch's conventions), and how many multiply-accumulates a
forward pass costs. Shapes are channels_last and exclude the batch dimension.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationInfo, field_validator

from archspec.ops.shapes import Shape, product

ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "gelu",
    "sigmoid",
    "tanh",
    "softmax",
    "silu",
    "swish",
    "hard_sigmoid",
    "hard_swish",
)
ActivationName = Literal[ACTIVATIONS]  # the tuple's items, one Literal value each

InitializerName = Literal[
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "zeros",
    "ones",
]


class InitializerSpec(BaseModel):
    """An initializer with arguments, e.g. ``{name: random_normal, stddev: 0.01}``.

    ``variance_scaling`` follows Keras: std or limit from ``scale / fan`` with ``mode`` fan_in,
    fan_out or fan_avg; ``distribution`` truncated_normal (Keras's he_normal), untruncated_normal
    (PyTorch's kaiming_normal_) or uniform.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal[
        "constant", "random_normal", "random_uniform", "truncated_normal", "variance_scaling"
    ]
    value: float = 0.0
    mean: float = 0.0
    stddev: Annotated[float, Field(gt=0)] = 0.05
    minval: float = -0.05
    maxval: float = 0.05
    scale: Annotated[float, Field(gt=0)] = 1.0
    mode: Literal["fan_in", "fan_out", "fan_avg"] = "fan_in"
    distribution: Literal["truncated_normal", "untruncated_normal", "uniform"] = "truncated_normal"

    @field_validator("maxval")
    @classmethod
    def _ordered_range(cls, maxval: float, info: ValidationInfo) -> float:
        # NOTE: Keras draws from a reversed range silently; PyTorch's uniform_ refuses it.
        minval = info.data.get("minval")
        if minval is not None and maxval < minval:
            raise ValueError(f"maxval {maxval} must not be below minval {minval}")
        return maxval


Initializer = InitializerName | InitializerSpec
# Keras 3's named initializers are variance scaling: (scale, mode, distribution). Backends that
# draw weights themselves (PyTorch, ONNX) read Keras's meaning from here.
NAMED_VARIANCE_SCALING: dict[str, tuple[float, str, str]] = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
}
# Keras's defaults, made explicit so that every backend initialises alike.
DEFAULT_INITIALIZERS: dict[str, Initializer] = {
    "kernel": "glorot_uniform",
    "depthwise": "glorot_uniform",
    "pointwise": "glorot_uniform",
    "bias": "zeros",
    "gamma": "ones",
    "beta": "zeros",
    "moving_mean": "zeros",
    "moving_variance": "ones",
}

Size = PositiveInt
Pair = Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]
NonNegative = Annotated[int, Field(ge=0)]
PaddingForm = (
    Literal["valid", "same"]
    | NonNegative
    | Annotated[list[NonNegative], Field(min_length=1, max_length=3)]
    | Annotated[
        list[Annotated[list[NonNegative], Field(min_length=2, max_length=2)]],
        Field(min_length=1, max_length=3),
    ]
)


class ShapeError(Exception):
    """An op cannot accept its inputs; ``field`` names the attribute to point at."""

    def __init__(self, message: str, field: str | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint


@dataclass(frozen=True)
class Weight:
    """One weight tensor, named and shaped as Keras stores it.

    ``trainable=False`` marks state such as BatchNorm moving statistics: Keras counts it as a
    non-trainable parameter, PyTorch keeps it as a buffer.
    """

    name: str
    shape: Shape
    trainable: bool = True

    @property
    def size(self) -> int:
        return product(self.shape)


class Regularizer(BaseModel):
    """A weight penalty as Keras applies it: ``l1 * sum(|w|) + l2 * sum(w**2)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    l1: Annotated[float, Field(ge=0)] | None = Field(None, description="L1 factor.")
    l2: Annotated[float, Field(ge=0)] | None = Field(None, description="L2 factor.")

    @property
    def active(self) -> bool:
        return bool(self.l1) or bool(self.l2)


class Op(BaseModel):
    """Base of every layer kind. Subclasses set ``kind`` and override the rules they need."""

    # NOTE: defer_build: a schema is compiled when an op is first validated, so `archspec check`
    # pays only for the ops its spec uses (a third of its start-up time otherwise).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: ClassVar[str]
    family: ClassVar[str] = "core"
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    # Fields shown in summaries and diagrams (the ones a reader needs to recognise the layer).
    key_fields: ClassVar[tuple[str, ...]] = ()

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        """Shape rule: the output shape, or ShapeError when the inputs do not fit."""
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> list[Weight]:
        """Parameter rule: the weights this layer owns, in Keras's order."""
        return []

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        """MACs rule: multiply-accumulates of one forward pass at batch 1."""
        return 0

    def describe(self) -> str:
        """Key attributes as ``k=v`` pairs for summaries and diagrams; defaults after the first
        key field are left out, as Keras's summaries leave them out."""
        parts = []
        for index, name in enumerate(self.key_fields):
            value = getattr(self, name)
            default = type(self).model_fields[name].default
            if value is None or (index > 0 and value == default):
                continue
            if isinstance(value, BaseModel):
                value = ",".join(f"{k}={v}" for k, v in value.model_dump(exclude_none=True).items())
            parts.append(f"{name}={_compact(value)}")
        return " ".join(parts)

    def initializer(self, weight: Weight) -> Initializer:
        """The initializer of a weight: the op's ``<weight>_initializer`` field, else the default."""
        value = getattr(self, f"{weight.name}_initializer", None)
        return value if value is not None else DEFAULT_INITIALIZERS.get(weight.name, "zeros")

    def regularizer(self, weight: Weight) -> Regularizer | None:
        """The active penalty on a weight (``<weight>_regularizer``), or None."""
        value = getattr(self, f"{weight.name}_regularizer", None)
        return value if value is not None and value.active else None


def _compact(value: Any) -> str:
    if isinstance(value, list | tuple):
        return (
            "x".join(_compact(v) for v in value)
            if all(isinstance(v, int) for v in value)
            else str(value)
        )
    return str(value)


def check_rank(inputs: Sequence[Shape], ranks: Sequence[int], what: str) -> None:
    """Raise ShapeError unless the (single) input has one of the given ranks."""
    if len(inputs[0]) not in ranks:
        want = " or ".join(str(r) for r in ranks)
        raise ShapeError(
            f"{what} expects an input of rank {want} (channels_last, batch excluded), "
            f"got shape {inputs[0]}"
        )
