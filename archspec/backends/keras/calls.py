"""The vocabulary of Keras lowering rows: calls, param references, shared arguments.

A row (see ``lowering``) returns ``Call`` values: a dotted callee with positional and keyword
arguments. Arguments equal to the Keras default are dropped (``prune``) so the emitted code
reads like hand-written Keras; ``KERAS_DEFAULTS`` is checked against Keras's real signatures by
the tests. No Keras import here: lowering is pure data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspec.codegen.common import pyrepr
from archspec.codegen.layout import Group, seq
from archspec.ops.base import InitializerSpec, Regularizer
from archspec.passes.check import LayerReport


@dataclass(frozen=True)
class Ref:
    """A name in generated code (a ``build_model`` argument) standing for a value."""

    name: str


@dataclass(frozen=True)
class Call:
    """``func(*args, **kwargs)`` in generated code; ``name`` becomes the layer's ``name=``."""

    func: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    name: str | None = None


class Values:
    """A node's field values, with ``Ref`` where a free spec param supplies them."""

    def __init__(
        self, layer: LayerReport, free: frozenset[str], non_negative: frozenset[str] = frozenset()
    ) -> None:
        self.layer = layer
        self.free = free
        # Nodes whose values are all >= 0 (``passes/ranges.py``): their max pooling may pad
        # with zeros, in a stock layer, instead of -inf in a custom one.
        self.non_negative = non_negative

    def __call__(self, path: str) -> Any:
        value: Any = self.layer.node.op
        for part in path.split("."):
            value = value[int(part)] if isinstance(value, list) else getattr(value, part)
        return self.symbolic(path, value)

    def symbolic(self, path: str, value: Any) -> Any:
        ref = self.layer.node.param_refs.get(path)
        if ref in self.free:
            return Ref(ref)
        if isinstance(value, list):
            return [self.symbolic(f"{path}.{i}", item) for i, item in enumerate(value)]
        return value


# Keras's constructor defaults for the arguments rows may drop (ints stand for all-equal tuples).
_CONV = {
    "strides": 1,
    "padding": "valid",
    "dilation_rate": 1,
    "activation": None,
    "use_bias": True,
    "bias_initializer": "zeros",
    "bias_regularizer": None,
}
KERAS_DEFAULTS: dict[str, dict[str, Any]] = {
    "layers.Conv1D": {
        **_CONV,
        "groups": 1,
        "kernel_initializer": "glorot_uniform",
        "kernel_regularizer": None,
    },
    "layers.Conv2D": {
        **_CONV,
        "groups": 1,
        "kernel_initializer": "glorot_uniform",
        "kernel_regularizer": None,
    },
    "layers.DepthwiseConv2D": {
        **_CONV,
        "depth_multiplier": 1,
        "depthwise_initializer": "glorot_uniform",
        "depthwise_regularizer": None,
    },
    "layers.SeparableConv2D": {
        **_CONV,
        "depth_multiplier": 1,
        "depthwise_initializer": "glorot_uniform",
        "pointwise_initializer": "glorot_uniform",
        "depthwise_regularizer": None,
        "pointwise_regularizer": None,
    },
    "layers.Dense": {
        "activation": None,
        "use_bias": True,
        "kernel_initializer": "glorot_uniform",
        "bias_initializer": "zeros",
        "kernel_regularizer": None,
        "bias_regularizer": None,
    },
    "layers.BatchNormalization": {
        "momentum": 0.99,
        "epsilon": 0.001,
        "center": True,
        "scale": True,
        "beta_initializer": "zeros",
        "gamma_initializer": "ones",
        "moving_mean_initializer": "zeros",
        "moving_variance_initializer": "ones",
        "beta_regularizer": None,
        "gamma_regularizer": None,
    },
    "layers.LayerNormalization": {
        "epsilon": 0.001,
        "center": True,
        "scale": True,
        "beta_initializer": "zeros",
        "gamma_initializer": "ones",
    },
    "layers.Conv2DTranspose": {
        **_CONV,
        "output_padding": None,
        "kernel_initializer": "glorot_uniform",
        "kernel_regularizer": None,
    },
    "layers.UpSampling2D": {"size": 2, "interpolation": "nearest"},
    "layers.Rescaling": {"offset": 0.0},
    "layers.Normalization": {"mean": None, "variance": None},
    "layers.GlobalAveragePooling2D": {"keepdims": False},
    "layers.GlobalMaxPooling2D": {"keepdims": False},
    "layers.MultiHeadAttention": {
        "dropout": 0.0,
        "use_bias": True,
        "kernel_initializer": "glorot_uniform",
        "bias_initializer": "zeros",
    },
    "layers.MaxPooling2D": {"strides": None, "padding": "valid"},
    "layers.AveragePooling2D": {"strides": None, "padding": "valid"},
    "layers.Concatenate": {"axis": -1},
    "initializers.Constant": {"value": 0.0},
    "initializers.RandomNormal": {"mean": 0.0, "stddev": 0.05},
    "initializers.RandomUniform": {"minval": -0.05, "maxval": 0.05},
    "initializers.TruncatedNormal": {"mean": 0.0, "stddev": 0.05},
    "initializers.VarianceScaling": {
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
    },
}

# archspec's custom layers that take their base class's arguments (and defaults).
SUBCLASSES = {"SelfAttention": "layers.MultiHeadAttention"}


def _plain(value: Any) -> Any:
    """Lists and tuples of one repeated int compare as that int (Keras broadcasts them)."""
    if isinstance(value, list | tuple) and value and all(type(v) is int for v in value):
        return value[0] if len(set(value)) == 1 else tuple(value)
    return value


def prune(call: Call) -> Call:
    """Drop keyword arguments equal to Keras's default (never a ``Ref``), recursively."""
    defaults = KERAS_DEFAULTS.get(SUBCLASSES.get(call.func, call.func), {})
    kwargs = tuple(
        (key, prune(value) if isinstance(value, Call) else value)
        for key, value in call.kwargs
        if not (
            key in defaults
            and not _has_ref(value)
            and type(_plain(value)) is type(defaults[key])
            and _plain(value) == defaults[key]
        )
    )
    args = tuple(prune(a) if isinstance(a, Call) else a for a in call.args)
    return Call(call.func, args, kwargs, call.name)


def _has_ref(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, list | tuple):
        return any(_has_ref(v) for v in value)
    return isinstance(value, Call)


# --- arguments shared by several rows --------------------------------------------------------

_INITIALIZERS = {
    "constant": ("Constant", ("value",)),
    "random_normal": ("RandomNormal", ("mean", "stddev")),
    "random_uniform": ("RandomUniform", ("minval", "maxval")),
    "truncated_normal": ("TruncatedNormal", ("mean", "stddev")),
    "variance_scaling": ("VarianceScaling", ("scale", "mode", "distribution")),
}


def initializer(v: Values, field: str) -> Any:
    """A Keras initializer argument: the name, or an ``initializers.X(...)`` call."""
    value = getattr(v.layer.node.op, field)
    if not isinstance(value, InitializerSpec):
        return v(field)
    cls, keys = _INITIALIZERS[value.name]
    return Call(f"initializers.{cls}", kwargs=tuple((k, v(f"{field}.{k}")) for k in keys))


def regularizer(v: Values, field: str) -> Any:
    """``regularizers.L1/L2/L1L2(...)`` for an active penalty, else None."""
    value: Regularizer | None = getattr(v.layer.node.op, field)
    if value is None or not value.active:
        return None
    if value.l1 and value.l2:
        return Call(
            "regularizers.L1L2", kwargs=(("l1", v(f"{field}.l1")), ("l2", v(f"{field}.l2")))
        )
    key = "l1" if value.l1 else "l2"
    return Call(f"regularizers.{key.upper()}", (v(f"{field}.{key}"),))


def weight_kwargs(v: Values, *weights: str) -> list[tuple[str, Any]]:
    """``<w>_initializer`` for each weight then ``<w>_regularizer`` for each (Keras's order)."""
    inits = [(f"{w}_initializer", initializer(v, f"{w}_initializer")) for w in weights]
    regs = [
        (f"{w}_regularizer", regularizer(v, f"{w}_regularizer"))
        for w in weights
        if hasattr(v.layer.node.op, f"{w}_regularizer")
    ]
    return inits + regs


def layout_node(value: Any) -> Any:
    """A value (literal, ``Ref``, ``Call``) as a layout node."""
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, Group):  # already laid out (a model's list of outputs)
        return value
    if isinstance(value, Call):
        items = [layout_node(a) for a in value.args]
        items += [seq(f"{key}=", layout_node(v)) for key, v in value.kwargs]
        if value.name is not None:
            items.append(seq("name=", pyrepr(value.name)))
        return seq(value.func, Group("(", ")", tuple(items)))
    if isinstance(value, list | tuple):
        return Group("(", ")", tuple(layout_node(v) for v in value), one_tuple=len(value) == 1)
    return pyrepr(value)
