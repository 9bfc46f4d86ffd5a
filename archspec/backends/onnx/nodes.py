"""The pieces every ONNX lowering row uses: the builder state (``Lowering``), activations, and
the move of channels last. Rows live in ``lowering`` (and the family modules it gathers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper

from archspec.backends import BackendError
from archspec.backends.onnx.weights import channels_last_perm, to_onnx
from archspec.passes.check import LayerReport, Report

Array = np.ndarray


# -- the builder state -----------------------------------------------------------------------------
@dataclass
class Lowering:
    """ONNX nodes and initializers being collected for one report."""

    report: Report
    weights: dict[str, list[Array]]
    nodes: list[NodeProto] = field(default_factory=list)
    initializers: list[TensorProto] = field(default_factory=list)

    def const(self, layer: LayerReport, what: str, array: Array) -> str:
        """A helper constant (not a parameter), named ``<node>/<what>``."""
        name = f"{layer.name}/{what}"
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def scalar(self, layer: LayerReport, what: str, value: float) -> str:
        """A float32 scalar helper constant."""
        return self.const(layer, what, np.array(value, np.float32))

    def weight(self, layer: LayerReport, name: str) -> str | None:
        """The initializer of the IR weight ``name`` of ``layer`` (None if it has none)."""
        for index, weight in enumerate(layer.weights):
            if weight.name == name:
                array = np.asarray(self.weights[layer.name][index], dtype=np.float32)
                if array.shape != weight.shape:
                    raise BackendError(
                        f"{layer.name}.{name}: expected shape {weight.shape}, got {array.shape}"
                    )
                value = to_onnx(layer.kind, name, array)
                full = f"{layer.name}.{name}"
                self.initializers.append(numpy_helper.from_array(value, full))
                return full
        return None

    def emit(self, op_type: str, inputs: list[str], output: str, **attrs: Any) -> str:
        """Append one ONNX node whose single output (and node name) is ``output``."""
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output


# -- activations -----------------------------------------------------------------------------------
def activation(lo: Lowering, layer: LayerReport, function: str, x: str, out: str, **kw: Any) -> str:
    """Lower one activation function; ``kw`` carries leaky_relu's slope or elu's alpha."""
    if function == "linear":
        return lo.emit("Identity", [x], out)
    if function == "relu6":
        return lo.emit("Clip", [x, lo.scalar(layer, "min", 0), lo.scalar(layer, "max", 6)], out)
    if function == "leaky_relu":
        return lo.emit("LeakyRelu", [x], out, alpha=kw.get("negative_slope", 0.2))
    if function == "elu":
        return lo.emit("Elu", [x], out, alpha=kw.get("alpha", 1.0))
    if function == "gelu":
        return lo.emit("Gelu", [x], out, approximate="none")
    if function == "softmax":  # over channels, axis 1 in NCHW
        return lo.emit("Softmax", [x], out, axis=1)
    if function in ("silu", "swish"):
        gate = lo.emit("Sigmoid", [x], f"{layer.name}/sigmoid")
        return lo.emit("Mul", [x, gate], out)
    if function == "hard_sigmoid":  # relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1)
        return lo.emit("HardSigmoid", [x], out, alpha=1.0 / 6.0, beta=0.5)
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "hard_swish": "HardSwish"}
    return lo.emit(simple[function], [x], out)


def then_activate(
    lo: Lowering, layer: LayerReport, op_type: str, inputs: list[str], **a: Any
) -> str:
    """Emit ``op_type``, then the op's fused ``activation`` (if any) under the layer's name."""
    function = getattr(layer.node.op, "activation", None)
    if function is None:
        return lo.emit(op_type, inputs, layer.name, **a)
    core = lo.emit(op_type, inputs, f"{layer.name}/{op_type.lower()}", **a)
    return activation(lo, layer, function, core, layer.name)


def to_channels_last(lo: Lowering, layer: LayerReport, x: str, rank: int) -> str:
    """Transpose an NCHW-style tensor (``rank`` dims without batch) to channels_last."""
    if rank < 2:
        return x
    return lo.emit("Transpose", [x], f"{layer.name}/nhwc", perm=channels_last_perm(rank + 1))


Lower = Callable[[Lowering, LayerReport, list[str]], str]
