"""PyTorch source for a checked graph: the lowering rows laid out as a hand-written module.

``render`` builds the pieces (``__init__`` in node order, ``reset_parameters``,
``regularization_loss``, a top-to-bottom ``forward`` with a shape comment per layer,
``build_model``) and ``templates/torch/module.py.j2`` puts them together. ``forward_steps`` is
the same forward as data, one assignment per node, for ``archspec verify``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Collection
from dataclasses import dataclass

from archspec.backends.torch import initializers
from archspec.backends.torch.calls import Ctx, Lowered, assign, torch_shape
from archspec.backends.torch.lowering import lower
from archspec.backends.torch.weights import flatten_orders, torch_key
from archspec.codegen.common import Namespace, environment, free_params, pyrepr
from archspec.codegen.layout import INDENT, LINE_LENGTH, docstring, layout, with_comment, wrap
from archspec.frontend.names import RESERVED
from archspec.passes.check import LayerReport, Report

MAX_VARIABLE = 30  # forward variables are named after layers, cut to keep lines short
MODULE_NAMES = ("torch", "nn", "F", "math", "variance_scaling_", "SeparableConv2d", "build_model")


@dataclass(frozen=True)
class Step:
    """One node of ``forward``: the variable it assigns and the statement that does it."""

    node: str
    var: str
    code: str
    shape: tuple[int, ...]  # PyTorch shape, batch excluded


def class_name(spec_name: str) -> str:
    """``alexnet`` -> ``AlexNet``, ``resnet18`` -> ``ResNet18``, ``mobilenet_v2`` ->
    ``MobileNetV2``, ``tiny_cnn`` -> ``TinyCnn``: CamelCase, with a lower-case ``...net`` read
    as a network's name."""
    words = []
    for part in (p for p in spec_name.split("_") if p):
        match = re.fullmatch(r"([a-z]+)net(\d*)", part)
        if match and match.group(1):
            part = f"{match.group(1)}Net{match.group(2)}"
        words.append(part[0].upper() + part[1:])
    return "".join(words) or "Model"


def variables(report: Report, namespace: Namespace) -> dict[str, str]:
    """The forward variable of each node: ``x`` along a chain, a name where a value is reused."""
    nodes = report.graph.nodes
    users = report.graph.consumers()
    found = {}
    for index, node in enumerate(nodes):
        following = nodes[index + 1].name if index + 1 < len(nodes) else None
        chained = users[node.name] == [following] or node.name == report.graph.output
        if len(report.graph.outputs) > 1 and node.name in report.graph.outputs:
            chained = False  # forward returns every output: each keeps its own variable
        wanted = "inputs" if node.kind == "input" else node.name[:MAX_VARIABLE]
        found[node.name] = "x" if chained else namespace.claim(wanted)
    return found


def shape_text(shape: tuple[object, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def param_text(layer: LayerReport) -> str:
    trainable, buffers = layer.trainable_params, layer.non_trainable_params
    text = f"{trainable:,} params"
    return text + (f", {buffers:,} buffers" if buffers else "")


@dataclass
class Parts:
    """Everything ``render`` assembles, per layer."""

    report: Report
    symbolic: dict[str, str]
    steps: list[Step]
    lowered: dict[str, Lowered]


def lower_all(report: Report, symbolic: dict[str, str], reserved: Collection[str]) -> Parts:
    """Lower every layer with its forward variables decided."""
    flattens = flatten_orders(report).flattens
    names = variables(report, Namespace([*reserved, "self", "x"]))
    steps, lowered = [], {}
    for layer in report.layers[1:]:
        inputs = tuple(names[name] for name in layer.node.inputs)
        ctx = Ctx(layer, inputs, symbolic, layer.name in flattens)
        result = lower(ctx)
        lowered[layer.name] = result
        var = names[layer.name]
        steps.append(
            Step(layer.name, var, f"{var} = {result.forward}", torch_shape(layer.output_shape))
        )
    return Parts(report, symbolic, steps, lowered)


def forward_steps(report: Report) -> list[Step]:
    """``forward`` as data: one statement per non-input node (forward never names params)."""
    return lower_all(report, {}, MODULE_NAMES).steps


def input_variable(report: Report) -> str:
    return variables(report, Namespace([*MODULE_NAMES, "self", "x"]))[report.graph.input.name]


def _annotation(value: object) -> str:
    if isinstance(value, list):
        kinds = {type(v).__name__ for v in value}
        return f"tuple[{kinds.pop()}, ...]" if len(kinds) == 1 else "tuple"
    return type(value).__name__


def regularization(report: Report, stored: dict[str, str]) -> tuple[list[str], set[str]]:
    """``regularization_loss``'s body, and the params it reads from ``self``."""
    terms, used = [], set()
    for layer in report.layers:
        for weight in layer.weights:
            reg = layer.node.op.regularizer(weight)
            if reg is None:
                continue
            path = f"self.{layer.name}.{torch_key(layer.kind, weight.name)}"
            for which, method in (("l1", "abs"), ("l2", "square")):
                if not getattr(reg, which):
                    continue
                param = layer.node.param_refs.get(f"{weight.name}_regularizer.{which}")
                factor = pyrepr(getattr(reg, which))
                if param in stored:
                    factor, _ = f"self.{stored[param]}", used.add(param)
                terms.append(f"{factor} * {path}.{method}().sum()")
    if not terms:
        return [f"{INDENT * 2}return torch.zeros(())"], used
    body = [f"{INDENT * 2}penalties = ["]
    body += [line for term in terms for line in layout(3, "", term, ",")]
    return [*body, f"{INDENT * 2}]", f"{INDENT * 2}return sum(penalties)"], used


class Seen:
    """Notes are written once, where they first apply."""

    def __init__(self) -> None:
        self.notes: set[str] = set()

    def comments(self, notes: tuple[str, ...], depth: int = 2) -> list[str]:
        fresh = [n for n in notes if n not in self.notes]
        self.notes.update(fresh)
        pad = INDENT * depth
        width = LINE_LENGTH - len(pad) - 2
        lines = [textwrap.wrap(f"NOTE: {n}", width, subsequent_indent="  ") for n in fresh]
        return [f"{pad}# {line}" for wrapped in lines for line in wrapped]


def init_body(parts: Parts, stored: dict[str, str], annotate: bool, seen: Seen) -> list[str]:
    """``__init__``'s body: params kept for later, then one module per layer in node order."""
    pad = INDENT * 2
    body = [f"{pad}super().__init__()"]
    body += [f"{pad}self.{attr} = {parts.symbolic[p]}" for p, attr in stored.items()]
    for layer in parts.report.layers[1:]:
        lowered = parts.lowered[layer.name]
        if lowered.module is None:
            continue
        if annotate:
            before = ", ".join(shape_text(torch_shape(s)) for s in layer.input_shapes)
            after = shape_text(torch_shape(layer.output_shape))
            body.append(f"{pad}# {before} -> {after}, {param_text(layer)}")
            body += seen.comments(lowered.notes)
        body += assign(2, f"self.{layer.name}", lowered.module)
        body += [f"{pad}{line}" for line in lowered.setup]
    return [*body, f"{pad}self.reset_parameters()"]


def forward_body(parts: Parts, annotate: bool, seen: Seen) -> list[str]:
    body = []
    for step in parts.steps:
        if annotate:
            body += seen.comments(parts.lowered[step.node].forward_notes)
        statement = layout(2, f"{step.var} = ", step.code.split(" = ", 1)[1])
        if annotate:
            comment = shape_text(("N", *step.shape))  # type: ignore[arg-type]
            if len(statement) == 1:
                statement = with_comment(2, statement[0].strip(), comment)
            else:
                statement = [f"{INDENT * 2}# {comment}", *statement]
        body += statement
    return [*body, f"{INDENT * 2}return {_returned(parts)}"]


def _return_annotation(report: Report) -> str:
    count = len(report.graph.outputs)
    return "torch.Tensor" if count == 1 else f"tuple[{', '.join(['torch.Tensor'] * count)}]"


def _returned(parts: Parts) -> str:
    """What ``forward`` returns: the output, or a tuple of the outputs in the spec's order."""
    outputs = parts.report.graph.outputs
    if len(outputs) == 1:
        return parts.steps[-1].var if parts.steps else "x"
    by_node = {step.node: step.var for step in parts.steps}
    return ", ".join(by_node[name] for name in outputs)


def module_docstring(report: Report, free: Collection[str]) -> str:
    """The generated module's docstring: the spec's doc, then shapes and totals."""
    shape_in = shape_text(("N", *torch_shape(report.layers[0].output_shape)))
    shapes = [shape_text(("N", *torch_shape(shape))) for shape in report.output_shapes.values()]
    shape_out = shapes[0] if len(shapes) == 1 else f"a tuple of {', '.join(shapes)}"
    totals = (
        f"Parameters: {report.torch_parameters:,}, all trainable; buffers: {report.torch_buffers:,} "
        f"(BatchNorm statistics, which Keras counts as non-trainable parameters: "
        f"{report.total_params:,} in all)."
        if report.torch_buffers
        else f"Parameters: {report.torch_parameters:,}, all trainable."
    )
    defaults = " Figures are for the default arguments of build_model." if free else ""
    facts = (
        f"PyTorch module generated by archspec from the spec {report.name!r}. Input {shape_in}, "
        f"channels first; output {shape_out}. {totals}{defaults}"
    )
    return f"{report.graph.doc.strip()}\n\n{facts}" if report.graph.doc.strip() else facts


def render(report: Report, free: Collection[str], annotate: bool = True) -> str:
    """The module source, params in ``free`` kept as arguments; ``annotate=False`` leaves out
    every comment and docstring (what ``free_params`` compares)."""
    free = frozenset(free)  # membership per param: a tuple of 5,000 would be quadratic
    top = Namespace(MODULE_NAMES)
    name = top.claim(class_name(report.name))
    argument_names = Namespace([*MODULE_NAMES, name, "self"])
    symbolic = {p: argument_names.claim(p) for p in report.graph.params if p in free}
    parts = lower_all(report, symbolic, MODULE_NAMES)
    attributes = Namespace([*RESERVED, *(layer.name for layer in report.layers)])
    stored_all = {p: attributes.claim(p) for p in symbolic}
    penalties, used = regularization(report, stored_all)
    stored = {p: a for p, a in stored_all.items() if p in used}
    seen = Seen()
    arguments = [
        f"{symbolic[p]}: {_annotation(v)} = {pyrepr(v)}"
        for p, v in report.graph.params.items()
        if p in symbolic
    ]
    statements = [line for layer in report.layers for line in initializers.statements(layer)]
    reset = [line for statement in statements for line in _statement(2, statement)]
    pieces = {
        "init": "\n".join(
            wrap(1, "def __init__(", ["self", *arguments], ") -> None:")
            + init_body(parts, stored, annotate, seen)
        ),
        "reset": "\n".join(reset),
        "regularization": "\n".join(penalties),
        "forward": "\n".join(forward_body(parts, annotate, seen)),
    }
    if not annotate:  # the signature's defaults are the values themselves: leave it out
        return "\n".join([*pieces.values()][1:]) + "\n".join(init_body(parts, stored, False, seen))
    helpers = set().union(*(low.helpers for low in parts.lowered.values()))
    if initializers.uses_helper(statements):
        helpers.add("variance_scaling_")
    calls = [f"{symbolic[p]}={symbolic[p]}" for p in symbolic]
    build = wrap(0, "def build_model(", arguments, f") -> {name}:")
    build += docstring(1, f"A fresh {name}, initialised as Keras initialises the spec.")
    build += wrap(1, f"return {name}(", calls, ")")
    source = (
        environment("torch")
        .get_template("module.py.j2")
        .render(
            docstring="\n".join(docstring(0, module_docstring(report, symbolic))),
            uses_math="variance_scaling_" in helpers or " math." in source_text(pieces),
            uses_functional=" F." in source_text(pieces),
            helper_names=sorted(helpers),
            class_name=name,
            class_docstring="\n".join(docstring(1, class_doc(report))),
            input_var=parts_input(parts),
            returns=_return_annotation(report),
            build_model="\n".join(build),
            **pieces,
        )
    )
    return source.rstrip("\n") + "\n"


def _statement(depth: int, code: str) -> list[str]:
    """One expression statement (a call), wrapped as ruff would."""
    return layout(depth, "", code)


def source_text(pieces: dict[str, str]) -> str:
    return " " + " ".join(pieces.values()).replace("(", " ")


def class_doc(report: Report) -> str:
    return (
        f"The {report.name!r} network. Attributes are named after the spec's layers, so "
        "state_dict keys match archspec.transfer_weights and the Keras layer names."
    )


def parts_input(parts: Parts) -> str:
    return input_variable(parts.report)


def generate(report: Report) -> str:
    """Standalone PyTorch source; spec params that only name values stay ``build_model``
    arguments (``n_classes``), the rest (``input_shape``: Linear sizes follow it) are baked."""
    symbolic_all = list(report.graph.params)
    free = free_params(report, lambda r: render(r, symbolic_all, annotate=False))
    return render(report, free)
