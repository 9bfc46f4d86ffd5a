"""Keras's initializers written as PyTorch statements, with Keras's fan definitions.

PyTorch's own defaults (kaiming_uniform(a=sqrt 5) kernels, uniform biases) differ from Keras's
(glorot_uniform kernels, zero biases), so every weight gets an explicit statement. Where
PyTorch's fans equal Keras's (conv and linear kernels) the familiar ``nn.init`` calls do;
depthwise kernels (PyTorch fans over 1 input, Keras over C) and vectors use the generated
``variance_scaling_`` helper with Keras's fans written out.
"""

from __future__ import annotations

from typing import Any

from archspec.backends.torch.weights import is_depthwise, key_text
from archspec.codegen.common import pyrepr
from archspec.ops.base import NAMED_VARIANCE_SCALING, InitializerSpec, Weight
from archspec.ops.shapes import Shape, product
from archspec.passes.check import LayerReport

# The same initializers as ``nn.init`` calls, exact where PyTorch's fans are Keras's.
_RELU, _LINEAR = 'nonlinearity="relu"', 'nonlinearity="linear"'
_RELU_OUT = 'mode="fan_out", nonlinearity="relu"'
_BUILTIN = {
    (1.0, "fan_avg", "uniform"): ("xavier_uniform_", ""),
    (2.0, "fan_in", "uniform"): ("kaiming_uniform_", _RELU),
    (1.0, "fan_in", "uniform"): ("kaiming_uniform_", _LINEAR),
    (2.0, "fan_out", "uniform"): ("kaiming_uniform_", _RELU_OUT),
    (1.0, "fan_avg", "untruncated_normal"): ("xavier_normal_", ""),
    (2.0, "fan_in", "untruncated_normal"): ("kaiming_normal_", _RELU),
    (1.0, "fan_in", "untruncated_normal"): ("kaiming_normal_", _LINEAR),
    (2.0, "fan_out", "untruncated_normal"): ("kaiming_normal_", _RELU_OUT),
}
# What a norm module's own reset_parameters() already does (Keras's defaults too).
NORM_DEFAULTS = {
    "gamma": "ones",
    "beta": "zeros",
    "moving_mean": "zeros",
    "moving_variance": "ones",
}
NORM_KINDS = ("batch_norm", "layer_norm")


def keras_fans(shape: Shape) -> tuple[int, int]:
    """Keras's ``compute_fans``: vectors fan over their length, kernels over (..., in, out)."""
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = product(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _variance_scaling(path: str, params: tuple[Any, ...], shape: Shape, builtin: bool) -> str:
    if builtin and params in _BUILTIN:
        function, extra = _BUILTIN[params]
        return f"nn.init.{function}({path}{', ' + extra if extra else ''})"
    args = ", ".join(pyrepr(v) for v in (*params, keras_fans(shape)))
    return f"variance_scaling_({path}, {args})"


def _spec_statement(path: str, init: InitializerSpec, shape: Shape, builtin: bool) -> str:
    if init.name == "constant":
        return f"nn.init.constant_({path}, {pyrepr(init.value)})"
    if init.name == "random_normal":
        return f"nn.init.normal_({path}, {pyrepr(init.mean)}, {pyrepr(init.stddev)})"
    if init.name == "random_uniform":
        return f"nn.init.uniform_({path}, {pyrepr(init.minval)}, {pyrepr(init.maxval)})"
    if init.name == "truncated_normal":
        low, high = init.mean - 2 * init.stddev, init.mean + 2 * init.stddev
        values = ", ".join(pyrepr(v) for v in (init.mean, init.stddev, low, high))
        return f"nn.init.trunc_normal_({path}, {values})"
    params = (float(init.scale), init.mode, init.distribution)
    return _variance_scaling(path, params, shape, builtin)


def statement(layer: LayerReport, weight: Weight) -> str:
    """The PyTorch statement that initialises ``weight`` as Keras would."""
    init = layer.node.op.initializer(weight)
    path = f"self.{layer.name}.{key_text(layer, weight.name)}"
    # Keras's fans where PyTorch's differ: depthwise, packed or reshaped attention kernels.
    builtin = (
        len(weight.shape) >= 2
        and not is_depthwise(layer.kind, weight.name)
        and layer.kind != "multi_head_attention"
    )
    if isinstance(init, InitializerSpec):
        return _spec_statement(path, init, weight.shape, builtin)
    if init in ("zeros", "ones"):
        return f"nn.init.{init}_({path})"
    return _variance_scaling(path, NAMED_VARIANCE_SCALING[init], weight.shape, builtin)


def lone_weight(layer: LayerReport) -> str | None:
    """The IR name of a norm's gamma or beta when it is learned without the other."""
    op = layer.node.op
    if op.scale == op.center:
        return None
    return "gamma" if op.scale else "beta"


def statements(layer: LayerReport) -> list[str]:
    """Every statement ``reset_parameters`` needs for one layer."""
    if layer.kind not in NORM_KINDS:
        return [statement(layer, weight) for weight in layer.weights]
    module_resets = layer.kind == "batch_norm" or (layer.node.op.scale and layer.node.op.center)
    found = [f"self.{layer.name}.reset_parameters()"] if module_resets else []
    for weight in layer.weights:
        init = layer.node.op.initializer(weight)
        if weight.name == lone_weight(layer) or init != NORM_DEFAULTS[weight.name]:
            found.append(statement(layer, weight))
    return found


def uses_helper(lines: list[str]) -> bool:
    return any(line.startswith("variance_scaling_(") for line in lines)
