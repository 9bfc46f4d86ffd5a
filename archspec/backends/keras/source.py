"""Generated Keras source: the IR lowered row by row, laid out, rendered through jinja2.

The code reads like the reference notebook's hand-written Keras: functional API,
``x = layers.Conv2D(...)(x)``, a variable named after a node only where the graph branches.
Spec params stay ``build_model`` arguments where ``free_params`` proves that is exact.
"""

from __future__ import annotations

import ast
import keyword
import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from archspec.backends import BackendError
from archspec.backends.keras.calls import Call, Ref, Values, layout_node
from archspec.backends.keras.lowering import lower
from archspec.codegen.common import Namespace, environment, free_params, pyrepr
from archspec.codegen.layout import INDENT, Group, lines, seq
from archspec.ops.shapes import Shape
from archspec.passes.check import LayerReport, Report
from archspec.passes.ranges import non_negative

CUSTOM_LAYERS = (
    "LocalResponseNorm",
    "NegInfPadding2D",
    "LayerScale",
    "ClassToken",
    "PositionEmbedding",
    "SelfAttention",
    "Take",
)
# Module-level names generated code uses; a spec param with one of these names is baked in.
MODULE_NAMES = frozenset(
    {"keras", "layers", "initializers", "regularizers", "ops", "build_model", *CUSTOM_LAYERS}
)


@dataclass(frozen=True)
class Statement:
    """One node's lines of ``build_model``: a comment, then its code; ``group`` is the spec's
    top-level entry it came from (a blank line separates expanded blocks)."""

    comment: str | None
    code: list[str]
    group: str


def custom_layers(report: Report) -> list[str]:
    """archspec's own Keras layer classes the model needs (none: stock Keras layers only, so a
    saved ``.keras`` file loads with plain ``keras.models.load_model``)."""
    # NOTE: `archspec check` asks this of every spec: lowering alone answers it, without the
    # layout and comments `statements` writes, and a node lowered without helper layers stands
    # for every node with the same (frozen, shared) op and input shapes, unless its row asked
    # about the input's range (a long spec repeats a few such nodes).
    taken = {n.name for n in report.graph.nodes}
    positive = _AskedRanges(report)
    used: set[str] = set()
    seen: set[tuple[Any, ...]] = set()
    for layer in report.layers[1:]:
        key = (id(layer.node.op), layer.input_shapes)  # the op is alive: its id holds
        if key in seen:
            continue
        positive.asked = False
        calls = lower(layer, frozenset(), positive)  # type: ignore[arg-type]
        _check_helpers(layer, calls, taken)
        used.update(c.func for c in _nested(calls))
        if len(calls) == 1 and not positive.asked:  # no helper, and not about its input
            seen.add(key)
    return [name for name in CUSTOM_LAYERS if name in used]


class _AskedRanges:
    """``non_negative(graph)``, worked out when a row first asks (few do), noting each ask."""

    def __init__(self, report: Report) -> None:
        self.report, self.asked = report, False
        self.found: frozenset[str] | None = None

    def __contains__(self, name: str) -> bool:
        self.asked = True
        if self.found is None:
            self.found = non_negative(self.report.graph)
        return name in self.found


def generate(report: Report, standalone: bool = True) -> str:
    """Standalone, ruff-clean Keras source defining ``build_model(<free params>)``.

    ``standalone=False`` is the live model's text: custom layer classes are imported from
    ``custom_layers`` instead of copied (so its layers are importable classes), and every param
    is written in as its value (the live model is built with the defaults anyway, which spares
    ``free_params`` its re-checks of the spec).
    """
    free: frozenset[str] = frozenset()
    if standalone:
        candidates = candidate_params(report)  # once, not once per param
        free = frozenset(p for p in free_params(report, code_text) if p in candidates)
    body, calls = statements(report, free)
    used = {c.func for c in calls}
    prefixes = {c.func.split(".")[0] for c in calls} | {"layers"}
    custom = [name for name in CUSTOM_LAYERS if name in used]
    if any("ops." in text for text in class_sources(custom)):
        prefixes.add("ops")
    imports = sorted(prefixes & {"initializers", "layers", "ops", "regularizers"})
    return (
        environment("keras")
        .get_template("model.py.j2")
        .render(
            docstring=module_docstring(report),
            imports=imports,
            classes=class_sources(custom) if standalone else [],
            custom_import=", ".join(custom) if custom and not standalone else "",
            signature=signature(report, free),
            name=report.name,
            body=_body_lines(body),
            returned=returned(report, free),
        )
    )


def candidate_params(report: Report) -> set[str]:
    """Params that can be Python keyword arguments without shadowing a module-level name."""
    return {
        name
        for name in report.graph.params
        if name.isidentifier() and not keyword.iskeyword(name) and name not in MODULE_NAMES
    }


def code_text(report: Report) -> str:
    """The code of ``build_model`` with every candidate param symbolic (for ``free_params``)."""
    body, _ = statements(report, frozenset(candidate_params(report)))
    return "\n".join(line for statement in body for line in statement.code)


def _variables(report: Report, free: frozenset[str]) -> dict[str, str]:
    """Node -> variable: ``x`` along a chain, the node's name where a later node needs it;
    the chain variable itself under the key ``""`` (no node has an empty name)."""
    names = Namespace(MODULE_NAMES | free)
    chain, inputs, outputs = names.claim("x"), names.claim("inputs"), names.claim("outputs")
    nodes = report.graph.nodes
    users = report.graph.consumers()
    found = {"": chain, nodes[0].name: inputs, report.graph.output: outputs}
    # Every output keeps its own variable (a later layer must not overwrite it).
    others = set(report.graph.outputs[1:])
    for index, current in enumerate(nodes[1:], start=1):
        if current.name in found:
            continue
        following = nodes[index + 1].name if index + 1 < len(nodes) else None
        if current.name not in others and users[current.name] == [following]:
            found[current.name] = chain
        else:
            found[current.name] = names.claim(current.name)
    return found


def statements(report: Report, free: frozenset[str]) -> tuple[list[Statement], list[Call]]:
    """Every node's statement, and every call made (for imports)."""
    variables = _variables(report, free)
    chain = variables[""]
    first = report.layers[0]
    shape = Values(first, free)("shape")
    call = Call("keras.Input", kwargs=(("shape", shape),), name=first.name)
    out = [
        Statement(None, lines(layout_node(call), INDENT, f"{variables[first.name]} = "), "input")
    ]
    made: list[Call] = []
    taken = {n.name for n in report.graph.nodes}
    positive = non_negative(report.graph)
    for layer in report.layers[1:]:
        calls = lower(layer, free, positive)
        _check_helpers(layer, calls, taken)
        made += _nested(calls)
        target = variables[layer.name]
        sources = [variables[name] for name in layer.node.inputs]
        source: object = sources[0] if len(sources) == 1 else Group("[", "]", tuple(sources))
        code = []
        # Helper layers write the chain variable: it is free (or this node's input) here.
        for index, step in enumerate(calls):
            into = target if index == len(calls) - 1 else chain
            code += lines(seq(layout_node(step), Group("(", ")", (source,))), INDENT, f"{into} = ")
            source = into
        out.append(Statement(_comment(layer), code, layer.node.source.path.split("]")[0]))
    return out, made


def _check_helpers(layer: LayerReport, calls: list[Call], taken: set[str]) -> None:
    for helper in calls[:-1]:
        if helper.name in taken:
            raise BackendError(
                f"node {layer.name!r} needs a helper layer named {helper.name!r}, but a node "
                "has that name; rename that node"
            )


def _nested(calls: list[Call]) -> list[Call]:
    found = []
    for call in calls:
        found.append(call)
        found += _nested([v for _, v in call.kwargs if isinstance(v, Call)])
        found += _nested([a for a in call.args if isinstance(a, Call)])
    return found


def _shape(shape: Shape) -> str:
    return pyrepr(list(shape))


def _comment(layer: LayerReport) -> str:
    text = " + ".join(_shape(s) for s in layer.input_shapes) + " -> " + _shape(layer.output_shape)
    return f"# {text}, {layer.params:,} params" if layer.params else f"# {text}"


def _body_lines(body: list[Statement]) -> list[str]:
    """Comments and code, with a blank line around each expanded block."""
    sizes: dict[str, int] = {}
    for statement in body:
        sizes[statement.group] = sizes.get(statement.group, 0) + 1
    out: list[str] = []
    for before, statement in zip([None, *body], body, strict=False):
        if (
            before is not None
            and before.group != statement.group
            and (sizes[before.group] > 1 or sizes[statement.group] > 1 or before.group == "input")
        ):
            out.append("")
        if statement.comment:
            out.append(INDENT + statement.comment)
        out += statement.code
    return out


def returned(report: Report, free: frozenset[str]) -> list[str]:
    """``return keras.Model(inputs=..., outputs=..., name=...)`` laid out."""
    variables = _variables(report, free)
    model = Call(
        "keras.Model",
        kwargs=(
            ("inputs", Ref(variables[report.graph.input.name])),
            ("outputs", _outputs(report, variables)),
        ),
        name=report.name,
    )
    return lines(layout_node(model), INDENT, "return ")


def _outputs(report: Report, variables: dict[str, str]) -> object:
    """The model's ``outputs``: one variable, or the list of them in the spec's order."""
    names = tuple(variables[name] for name in report.graph.outputs)
    return Ref(names[0]) if len(names) == 1 else Group("[", "]", names)


def signature(report: Report, free: frozenset[str]) -> list[str]:
    """``def build_model(...):`` laid out as ruff would."""
    args = tuple(
        seq(f"{name}=", layout_node(value))
        for name, value in report.graph.params.items()
        if name in free
    )
    return lines(seq("def build_model", Group("(", ")", args)), "", "", ":")


def module_docstring(report: Report) -> str:
    """The module docstring: what the model is, where from, its totals."""
    graph = report.graph
    source = Path(graph.filename).name if graph.filename != "<spec>" else "a spec"
    doc = " ".join(graph.doc.split())
    title = f"{graph.name}: {doc}" if doc else graph.name
    text = [
        *textwrap.wrap(title, 96),
        "",
        f"Keras 3 functional model generated by archspec from {source}.",
        f"Total params: {report.total_params:,} ({report.trainable_params:,} trainable, "
        f"{report.non_trainable_params:,} non-trainable); MACs: {report.macs:,}.",
        "Shapes and parameter counts in comments are for the default arguments (channels_last).",
    ]
    return _docstring_safe("\n".join(text))


def _docstring_safe(text: str) -> str:
    """Text that cannot end a docstring or form an escape sequence."""
    cleaned = "".join(c if c.isprintable() or c == "\n" else " " for c in text)
    return cleaned.replace("\\", "/").replace('"', "'")


def class_sources(names: list[str]) -> list[str]:
    """The source of custom layer classes, read from ``custom_layers.py`` without importing it
    (so generating code never imports Keras)."""
    path = resources.files("archspec.backends.keras") / "custom_layers.py"
    text = path.read_text(encoding="utf-8")
    found = {}
    for item in ast.parse(text).body:
        if isinstance(item, ast.ClassDef) and item.name in names:
            start = min([d.lineno for d in item.decorator_list] + [item.lineno])
            found[item.name] = "\n".join(text.splitlines()[start - 1 : item.end_lineno])
    return [found[name] for name in names]
