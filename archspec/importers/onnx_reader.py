"""Read an ONNX model (``onnx`` package): NCHW tensors, PyTorch's weight layouts, shapes from
ONNX shape inference. Each node is looked up in the import table (``onnx_map``).

Layer names come from the node names PyTorch's exporter writes (``/layer1/layer1.0/conv1/Conv``
-> ``layer1_0_conv1``; a functional op inside a module -> ``layer1_0_add``), else from the
node's name or op type, made into valid, unique node names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from archspec.frontend.names import node_name_problem
from archspec.importers.model import (
    Imported,
    Layer,
    ModelImportError,
    Origin,
    fold_global_pool,
    several_outputs,
)
from archspec.importers.onnx_map import Node
from archspec.importers.table import lookup


def read_onnx(path: Path) -> Imported:
    """The model in an ``.onnx`` file."""
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    except Exception as err:  # onnx raises several kinds on a bad file
        raise ModelImportError(f"{path}: not an ONNX model ({err})") from None
    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1:
        raise ModelImportError(f"{path}: {len(inputs)} inputs; archspec models have one")
    shapes = {v.name: _dims(v) for v in [*graph.input, *graph.value_info, *graph.output]}
    shape = shapes[inputs[0].name]
    alias = {inputs[0].name: "input"}
    flat: dict[str, tuple[int, ...]] = {}
    used: set[str] = {"input"}
    layers = []
    for index, node in enumerate(graph.node):
        if node.op_type == "Constant":
            continue
        if node.op_type == "Identity" and node.input[0] in constants:
            constants[node.output[0]] = constants[node.input[0]]
            continue
        name = _unique(_layer_name(node.name, node.op_type), used)
        origin = Origin(name, node.op_type, f"graph.node[{index}] {node.name!r}")
        found = lookup("onnx", node.op_type)
        if found is None:
            raise origin.error(
                f"archspec has no op for ONNX {node.op_type} (archspec import --list-supported)"
            )
        data = [i for i in node.input if i and i not in constants]
        missing = [i for i in data if i not in alias]
        if missing:
            raise origin.error(f"reads {missing}, which no supported node produced")
        call = Node(
            {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute},
            [shapes.get(i) if i not in constants else None for i in node.input],
            [constants.get(i) for i in node.input],
            shapes.get(node.output[0], ()),
            origin,
            flat.get(alias[data[0]]) if data else None,
        )
        result = found.convert(call)
        if result is None:
            used.discard(name)
            alias[node.output[0]] = alias[data[0]]
            continue
        kind, fields, weights = result
        layers.append(Layer(name, kind, fields, [alias[i] for i in data], origin, weights))
        alias[node.output[0]] = name
        if kind == "flatten":
            flat[name] = tuple(shapes[data[0]][1:])
    input_shape = [*shape[2:], shape[1]] if len(shape) > 2 else list(shape[1:])
    source = f"{path.name} (ONNX model)"
    output, extra = several_outputs([alias[o.name] for o in graph.output], source)
    name = graph.name if graph.name not in ("", "main_graph", "torch_jit") else path.stem
    imported = Imported(name, source, "input", input_shape, layers, output, extra_outputs=extra)
    fold_global_pool(imported)
    return imported


def _dims(value: Any) -> tuple[int, ...]:
    return tuple(d.dim_value or 1 for d in value.type.tensor_type.shape.dim)


def _layer_name(node_name: str, op: str) -> str:
    """``/layer1/layer1.0/conv1/Conv`` -> ``layer1_0_conv1``; ``/layer1/layer1.0/Add`` ->
    ``layer1_0_add``; names not in that form are cleaned up."""
    segments = [s for s in node_name.split("/") if s]
    if len(segments) < 2:
        return _clean(node_name or op)
    path = ""
    for segment in segments[:-1]:
        path = segment if not path or segment.startswith(path + ".") else f"{path}.{segment}"
    # functional ops are named after the module they run in and the op; the others are the
    # module itself (its attribute name, or its index in a Sequential)
    own = op not in _FUNCTIONAL
    name = path if own else f"{path}.{op.lower()}"
    return _clean(f"{op.lower()}.{name}" if name[0].isdigit() else name)


_FUNCTIONAL = ("Add", "Mul", "Concat", "Flatten", "Reshape", "Sub", "Div")


def _clean(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower() or "layer"
    name = name if name[0].isalpha() else f"n{name}"
    return name if not node_name_problem(name) else f"{name}_"


def _unique(name: str, used: set[str]) -> str:
    found, count = name, 0
    while found in used:
        count += 1
        found = f"{name}_{count}"
    used.add(found)
    return found
