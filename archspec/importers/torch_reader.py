"""Read a PyTorch program: a ``.pt2`` file from ``torch.export.save``, or a live
``nn.Module`` exported here with ``torch.export`` on an example input. Both become the same
ATen graph; each call is looked up in the import table (``torch_map``).

Names come from the module tree (``nn_module_stack``): a call inside ``layer1[0].conv1`` is
``layer1_0_conv1``; a functional call inside a module is named after the module and the op
(``layer1_0_add``). Tensors are NCHW in PyTorch and channels-last in the spec.
"""

from __future__ import annotations

import operator
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
from archspec.importers.table import lookup
from archspec.importers.torch_attention import attention_groups, attention_layer
from archspec.importers.torch_map import Call
from archspec.importers.torch_tokens import TOKEN_OPS


def read_pt2(path: Path) -> Imported:
    """The program in a ``torch.export.save`` file."""
    import torch

    try:
        program = torch.export.load(str(path))
    except Exception as err:  # torch raises many kinds on a bad file
        raise ModelImportError(f"{path}: not a torch.export program ({err})") from None
    return read_program(program, f"{path.name} (torch.export program)", path.stem)


def read_module(module: Any, input_shape: Any) -> Imported:
    """A live ``nn.Module``, exported on a batch of two random inputs of ``input_shape``
    (PyTorch's layout, batch excluded: ``(3, 224, 224)``)."""
    import torch

    if not isinstance(module, torch.nn.Module):
        raise ModelImportError(
            f"cannot import a {type(module).__name__}: give a model file or an nn.Module"
        )
    if input_shape is None:
        raise ModelImportError("a live nn.Module needs input_shape=(C, H, W) to be traced")
    example = torch.randn(2, *input_shape)
    program = torch.export.export(module.eval(), (example,))
    name = type(module).__name__
    return read_program(program, f"PyTorch module {name} (torch.export)", name.lower())


def _bind(node: Any) -> dict[str, Any]:
    """The call's arguments by schema name, defaults filled in."""
    schema = node.target._schema
    bound = {}
    for index, argument in enumerate(schema.arguments):
        if index < len(node.args):
            bound[argument.name] = node.args[index]
        elif argument.name in node.kwargs:
            bound[argument.name] = node.kwargs[argument.name]
        elif argument.has_default_value():
            bound[argument.name] = argument.default_value
    return bound


def _op_name(node: Any) -> str:
    return ".".join(str(node.target).split(".")[:2])


def _shape(node: Any) -> tuple[int, ...]:
    value = node.meta.get("val")
    return tuple(int(s) for s in value.shape) if hasattr(value, "shape") else ()


def read_program(program: Any, source: str, name: str) -> Imported:
    """Imported layers of an ``ExportedProgram``."""
    constants = _constants(program)
    user_inputs = list(program.graph_signature.user_inputs)
    if len(user_inputs) != 1:
        raise ModelImportError(f"{source}: {len(user_inputs)} inputs; archspec models have one")
    names = _Names()
    alias: dict[str, str] = {}  # fx node name -> the layer (or input) that holds its value
    flat: dict[str, tuple[int, ...]] = {}  # layer name -> (C, H, W) it flattened
    layers: list[Layer] = []
    input_name, input_shape, outputs = "input", [], []
    groups = attention_groups(program.graph)
    tokens: set[str] = set()  # fx nodes whose tensor is (N, L, D), features last
    for index, node in enumerate(program.graph.nodes):
        if node.op == "placeholder":
            if node.name == user_inputs[0]:
                shape = _shape(node)
                input_shape = [*shape[2:], shape[1]] if len(shape) > 2 else list(shape[1:])
                alias[node.name] = input_name
            continue
        if node.op == "output":
            outputs = [alias[a.name] for a in node.args[0] if a is not None]
            continue
        if node.target is operator.getitem:
            if node.args[1] == 0:
                alias[node.name] = alias[node.args[0].name]
            continue
        if node.name in groups:  # one nn.MultiheadAttention: its last call becomes the layer
            group = groups[node.name]
            if node is group.last:
                claimed = names.claim(group.path.replace(".", "_"))
                origin = Origin(claimed, "nn.MultiheadAttention", f"module {group.path!r}")
                fields, weights, read = attention_layer(group, constants, origin)
                if read.name not in tokens:
                    raise origin.error("attention on other than a (N, L, D) batch_first input")
                layers.append(
                    Layer(
                        claimed, "multi_head_attention", fields, [alias[read.name]], origin, weights
                    )
                )
                alias[node.name] = claimed
                tokens.add(node.name)
            continue
        op = _op_name(node)
        layer_name = names.of(node)
        origin = Origin(layer_name, op, f"graph node {node.name!r} (#{index})")
        found = lookup("torch", op)
        if found is None:
            raise origin.error(f"archspec has no op for {op} (archspec import --list-supported)")
        call = _call(node, constants, origin)
        reads = _tensor_args(node, constants)
        tensors = [alias[a.name] for a in reads]
        call.flattened_from = flat.get(tensors[0]) if tensors else None
        call.tokens = bool(reads) and reads[0].name in tokens
        if call.tokens and op not in TOKEN_OPS:
            raise origin.error(f"{op} on a (N, L, D) sequence has no mapping yet")
        result = found.convert(call)
        rank_3 = len(call.output_shape) == 3
        if (call.tokens if call.tokens_out is None else call.tokens_out) and rank_3:
            tokens.add(node.name)
        if result is None:  # the identity: later calls read its input
            alias[node.name] = tensors[0]
            continue
        kind, fields, weights = result
        claimed = names.claim(layer_name)
        layers.append(
            Layer(claimed, kind, fields, tensors, Origin(claimed, op, origin.where), weights)
        )
        alias[node.name] = claimed
        source_shape = call.shapes.get("self") or call.shapes.get("input")
        if kind == "flatten" and source_shape is not None:
            flat[claimed] = tuple(source_shape[1:])
    output, extra = several_outputs(outputs, source)
    imported = Imported(name, source, input_name, input_shape, layers, output, extra_outputs=extra)
    fold_global_pool(imported)
    return imported


def _constants(program: Any) -> dict[str, Any]:
    """Placeholder name -> numpy value of every parameter, buffer and constant."""
    signature = program.graph_signature
    state = {**program.state_dict, **getattr(program, "constants", {})}
    found = {}
    for mapping in (
        signature.inputs_to_parameters,
        signature.inputs_to_buffers,
        getattr(signature, "inputs_to_lifted_tensor_constants", {}),
    ):
        for placeholder, target in mapping.items():
            if target in state:
                found[placeholder] = state[target].detach().cpu().numpy()
    return found


def _tensor_args(node: Any, constants: dict[str, Any]) -> list[Any]:
    """The data tensors a call reads (not parameters), in argument order."""
    found = []
    for value in [*node.args, *node.kwargs.values()]:
        items = value if isinstance(value, list | tuple) else [value]
        found += [v for v in items if hasattr(v, "op") and v.name not in constants]
    return found


def _call(node: Any, constants: dict[str, Any], origin: Origin) -> Call:
    bound = _bind(node)
    args, shapes, arrays = {}, {}, {}
    for key, value in bound.items():
        if hasattr(value, "op"):
            if value.name in constants:
                arrays[key] = constants[value.name]
            else:
                shapes[key] = _shape(value)
        else:
            args[key] = value
    return Call(args, shapes, arrays, _shape(node), origin)


class _Names:
    """Layer names from module paths, unique and valid as node names."""

    def __init__(self) -> None:
        self.used: set[str] = {"input"}

    def of(self, node: Any) -> str:
        stack = node.meta.get("nn_module_stack") or {}
        path, cls = list(stack.values())[-1] if stack else ("", "")
        base = path.replace(".", "_")
        op = str(node.target).split(".")[1].rstrip("_")
        leaf = cls.rsplit(".", 1)[-1] if cls else ""
        # a call made by the module itself keeps the module's name; a functional call inside
        # a container is named after the container and the op
        own = leaf and not leaf[0].islower() and _is_leaf(leaf)
        name = base if own and base else f"{base}_{op}" if base else op
        if name[0].isdigit():  # a child of a top-level Sequential: "0" -> "conv2d_0"
            name = f"{op}_{name}"
        return name if not node_name_problem(name) else f"{name}_"

    def claim(self, name: str) -> str:
        found, count = name, 0
        while found in self.used:
            count += 1
            found = f"{name}_{count}"
        self.used.add(found)
        return found


_LEAVES = (
    "Conv",
    "Linear",
    "BatchNorm",
    "LayerNorm",
    "ReLU",
    "ReLU6",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "Dropout",
    "Pool",
    "Flatten",
    "Hardtanh",
    "ZeroPad",
    "ConstantPad",
    "Identity",
    "Hardswish",
    "Hardsigmoid",
    "Upsample",
)


def _is_leaf(cls: str) -> bool:
    return any(part in cls for part in _LEAVES)
