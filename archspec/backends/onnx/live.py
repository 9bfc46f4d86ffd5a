"""The ONNX model of a checked graph, written directly from the IR (NCHW, like PyTorch).

No framework exporter is involved: ``lowering`` maps each IR op to ONNX nodes with
``onnx.helper``, and weights become initializers named ``<node>.<weight>`` (the IR's names) in
ONNX layout. The model is an inference graph (dropout is the identity, BatchNorm uses its moving
statistics) and carries its spec in ``metadata_props`` so it can be re-checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from archspec.backends import BackendError
from archspec.backends.initial_weights import initial_weights
from archspec.backends.onnx.lowering import Lowering, lower_layer
from archspec.backends.onnx.weights import FROZEN, cf_shape, parameters
from archspec.passes.check import Report

OPSET = 20  # Gelu needs 20; onnxruntime >= 1.17 runs it
PRODUCER = "archspec"


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
        [_value(name, shape) for name, shape in report.output_shapes.items()],
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


def count_params(model: onnx.ModelProto) -> tuple[int, int]:
    """(total, trainable) over the IR weights; BatchNorm moving statistics are not trainable."""
    total = trainable = 0
    for name, tensor in parameters(model).items():
        size = int(np.prod(tensor.dims))
        total += size
        trainable += 0 if name.endswith(FROZEN) else size
    return total, trainable


def report_of(model: onnx.ModelProto) -> Report:
    """Re-check the spec an archspec ONNX model was built from (stored in its metadata)."""
    from archspec.frontend.load import load
    from archspec.passes.check import check

    props = {p.key: p.value for p in model.metadata_props}
    if "archspec.frontend" not in props:
        raise BackendError("this ONNX model was not written by archspec (no archspec.frontend)")
    overrides = json.loads(props.get("archspec.overrides", "{}"))
    return check(load(props["archspec.frontend"], overrides))
