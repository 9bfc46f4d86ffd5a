"""The ONNX backend: an ONNX model written directly from the IR, NCHW like PyTorch.

No framework exporter is involved: ``archspec.backends.onnx.lower`` maps each IR op to ONNX
nodes with ``onnx.helper``, and weights become initializers named ``<node>.<weight>`` (the IR's
names) in ONNX layout. The model is an inference graph (dropout is the identity, BatchNorm uses
its moving statistics) and carries its spec in ``metadata_props`` so it can be re-checked.
This backend writes a model file, not source: ``generate`` raises BackendError.

    report = archspec.check("specs/alexnet.yaml")
    model = archspec.build(report, backend="onnx")          # an onnx.ModelProto
    trained = archspec.build(report, backend="torch")       # ... after training it
    weights = get_backend("torch").get_weights(trained, report)   # IR layout
    get_backend("onnx").set_weights(model, report, weights)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from archspec.backends import BackendError
from archspec.backends.initial_weights import initial_weights
from archspec.backends.onnx.layout import cf_shape, from_onnx
from archspec.backends.onnx.lower import LOWERINGS, Lowering, lower_layer
from archspec.passes.check import Report

OPSET = 20  # Gelu needs 20; onnxruntime >= 1.17 runs it
PRODUCER = "archspec"
# True: this backend's output is a model file (``-o model.onnx``), not Python source.
MODEL_FILE_ONLY = True
_WEIGHT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\.[a-z_]+$")
_FROZEN = (".moving_mean", ".moving_variance")

__all__ = [
    "LOWERINGS",
    "OPSET",
    "build",
    "count_params",
    "generate",
    "get_weights",
    "report_of",
    "save",
    "set_weights",
]


def generate(report: Report) -> str:
    """ONNX has no source form here; build the model and save it instead."""
    raise BackendError(
        "the onnx backend writes a model file, not source: use "
        "`archspec build SPEC --backend onnx -o model.onnx` or archspec.build(spec, 'onnx')"
    )


def _value(name: str, shape: tuple[int, ...]) -> onnx.ValueInfoProto:
    dims: list[Any] = ["N", *cf_shape(shape)]
    return helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, dims)


def build(
    report: Report,
    weights: dict[str, list[np.ndarray]] | None = None,
    seed: int | None = None,
) -> onnx.ModelProto:
    """The ONNX model of a checked graph.

    Args:
        report: the checked graph.
        weights: IR-layout weights per node (as ``get_weights`` returns); default: drawn from
            each layer's initializers as Keras draws them (``seed`` for reproducibility).
    """
    values = weights if weights is not None else initial_weights(report, seed)
    lo = Lowering(report, values)
    for layer in report.layers[1:]:
        lower_layer(lo, layer)
    first = report.layers[0]
    graph = helper.make_graph(
        lo.nodes,
        report.name,
        [_value(first.name, first.output_shape)],
        [_value(report.graph.output, report.output_shape)],
        lo.initializers,
        doc_string=report.graph.doc,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name=PRODUCER)
    # The oldest IR version that carries this opset, so older runtimes can load the file.
    model.ir_version = helper.find_min_ir_version_for(opsets)
    helper.set_model_props(
        model,
        {
            "archspec.frontend": report.graph.source_text,
            "archspec.overrides": json.dumps(dict(report.graph.overrides), sort_keys=True),
        },
    )
    return model


def save(model: onnx.ModelProto, path: str | Path) -> None:
    """Write the model (one file; ONNX's protobuf limit of 2 GiB applies)."""
    if model.ByteSize() >= 2**31:
        raise BackendError("the model is over 2 GiB, ONNX's single-file limit")
    onnx.save_model(model, str(path))


def _parameters(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    return {t.name: t for t in model.graph.initializer if _WEIGHT_NAME.match(t.name)}


def count_params(model: onnx.ModelProto) -> tuple[int, int]:
    """(total, trainable) over the IR weights; BatchNorm moving statistics are not trainable."""
    total = trainable = 0
    for name, tensor in _parameters(model).items():
        size = int(np.prod(tensor.dims))
        total += size
        trainable += 0 if name.endswith(_FROZEN) else size
    return total, trainable


def get_weights(model: onnx.ModelProto, report: Report) -> dict[str, list[np.ndarray]]:
    """Every layer's weights in IR layout and order (as the other backends return them)."""
    found = _parameters(model)
    out: dict[str, list[np.ndarray]] = {}
    for layer in report.layers:
        arrays = []
        for weight in layer.weights:
            tensor = found.get(f"{layer.name}.{weight.name}")
            if tensor is None:
                raise BackendError(f"the ONNX model has no initializer {layer.name}.{weight.name}")
            array = numpy_helper.to_array(tensor)
            arrays.append(from_onnx(layer.kind, weight.name, array, weight.shape).copy())
        if arrays:
            out[layer.name] = arrays
    return out


def set_weights(
    model: onnx.ModelProto, report: Report, weights: dict[str, list[np.ndarray]]
) -> None:
    """Replace the model's weights, in place, by IR-layout ``weights`` (all layers)."""
    missing = [layer.name for layer in report.layers if layer.weights and layer.name not in weights]
    if missing:
        raise BackendError(f"no weights given for {', '.join(missing[:5])}")
    model.CopyFrom(build(report, weights))


def report_of(model: onnx.ModelProto) -> Report:
    """Re-check the spec an archspec ONNX model was built from (stored in its metadata)."""
    from archspec.frontend.load import load
    from archspec.passes.check import check

    props = {p.key: p.value for p in model.metadata_props}
    if "archspec.frontend" not in props:
        raise BackendError("this ONNX model was not written by archspec (no archspec.frontend)")
    overrides = json.loads(props.get("archspec.overrides", "{}"))
    return check(load(props["archspec.frontend"], overrides))
