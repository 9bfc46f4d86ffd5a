"""The checker: shapes, parameters, MACs and activation memory of every layer, no framework.

One pass over the graph in topological order applies each op's shape, parameter and MACs rules.
Problems are collected (a layer whose inputs failed is skipped, so one mistake is reported once).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from archspec.diagnostics import Diagnostic, SpecError
from archspec.ir.graph import Graph, Node
from archspec.limits import DEFAULT_MAX_PARAMS, MAX_DIMENSION
from archspec.ops.base import ShapeError, Weight
from archspec.ops.shapes import Shape, product
from archspec.util.gc_pause import gc_paused

BYTES_PER_VALUE = 4  # float32


@dataclass(frozen=True)
class LayerReport:
    """What the checker knows of one layer."""

    node: Node
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    weights: tuple[Weight, ...]
    macs: int

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def kind(self) -> str:
        return self.node.kind

    # NOTE: cached (summaries read each count several times per layer); the dataclass is
    # frozen, so a cached value cannot go stale.
    @cached_property
    def trainable_params(self) -> int:
        return sum(w.size for w in self.weights if w.trainable)

    @cached_property
    def non_trainable_params(self) -> int:
        return sum(w.size for w in self.weights if not w.trainable)

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def activation_bytes(self) -> int:
        return product(self.output_shape) * BYTES_PER_VALUE


@dataclass(frozen=True)
class Report:
    """A checked graph: per-layer reports (in graph order) and totals.

    Parameter conventions: Keras counts every weight (``total_params``), splitting trainable and
    non-trainable (BatchNorm moving statistics). PyTorch's ``parameters()`` hold exactly the
    trainable ones (``torch_parameters``) and its buffers the rest (``torch_buffers``, not
    counting BatchNorm's ``num_batches_tracked`` counters). FLOPs are reported as 2 x MACs.
    Activation memory is the sum of every layer's output (input included) at batch 1 in
    float32, without reuse: an upper bound on what inference must hold.
    """

    graph: Graph
    layers: tuple[LayerReport, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {layer.name: layer for layer in self.layers})

    def layer(self, name: str) -> LayerReport:
        return self._by_name[name]  # type: ignore[attr-defined]

    def __repr__(self) -> str:  # the dataclass's would print every layer and node
        return (
            f"<Report {self.name!r}: {len(self.layers) - 1} layers, {self.total_params:,} "
            f"params ({self.trainable_params:,} trainable), output shape {self.output_shape}>"
        )

    def _repr_html_(self) -> str:
        """Jupyter's display: the summary table and diagram (see archspec.display.html)."""
        from archspec.display.html import report_html

        return report_html(self)

    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def output_shape(self) -> Shape:
        """The shape of the (first) output."""
        return self.layer(self.graph.output).output_shape

    @property
    def output_shapes(self) -> dict[str, Shape]:
        """Every output's shape, by name, in the graph's output order."""
        return {name: self.layer(name).output_shape for name in self.graph.outputs}

    @cached_property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @cached_property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def torch_parameters(self) -> int:
        return self.trainable_params

    @property
    def torch_buffers(self) -> int:
        return self.non_trainable_params

    @cached_property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @cached_property
    def activation_bytes(self) -> int:
        return sum(layer.activation_bytes for layer in self.layers)


def _layout_hint(input_shape: Shape | None) -> str:
    """For a shape error under an input written channels-first (``[3, 32, 32]``): say so."""
    if input_shape is None or len(input_shape) != 3:
        return ""
    channels, height, width = input_shape
    if channels in (1, 3, 4) and channels < min(height, width) and width > 4:
        return (
            f"the input {list(input_shape)} looks channels-first; archspec shapes are "
            f"channels_last (H, W, C): [{height}, {width}, {channels}]"
        )
    return ""


@gc_paused()
def check(graph: Graph, max_params: int = DEFAULT_MAX_PARAMS) -> Report:
    """Infer every shape and count every parameter; raise SpecError listing all problems."""
    shapes: dict[str, Shape] = {}
    layers: list[LayerReport] = []
    problems: list[Diagnostic] = []
    trainable_sum = frozen_sum = macs_sum = 0
    # NOTE: an op's rules depend only on its (frozen) fields and its input shapes, and the
    # loader gives layers with the same fields one op: a long spec repeats a few such layers,
    # each worked out once (only when it passes). The graph keeps every op alive, so ids hold.
    known: dict[tuple[object, ...], tuple[Shape, tuple[Weight, ...], int, int, int]] = {}
    for node in graph.nodes:
        try:
            inputs = tuple([shapes[name] for name in node.inputs])
        except KeyError:
            continue  # an input already failed and was reported
        key = (id(node.op), inputs)
        found = known.get(key)
        if found is not None:
            output, weights, macs, trainable, frozen = found
            shapes[node.name] = output
            layer = LayerReport(node, inputs, output, weights, macs)
            layer.__dict__.update(trainable_params=trainable, non_trainable_params=frozen)
            trainable_sum += trainable
            frozen_sum += frozen
            macs_sum += macs
            layers.append(layer)
            continue
        try:
            output = node.op.output_shape(inputs)
            if output and (min(output) <= 0 or max(output) > MAX_DIMENSION):
                if any(size <= 0 for size in output):
                    raise ShapeError(f"output shape {output} has an empty axis (input {inputs})")
                raise ShapeError(f"shape {output} has an axis over {MAX_DIMENSION:,}")
            weights = tuple(node.op.weights(inputs))
        except ShapeError as err:
            field = err.field if err.field != "inputs" else None
            path = f"{node.source.path}.{err.field}" if field else node.source.path
            hint = err.hint or _layout_hint(shapes.get(graph.input.name))
            problems.append(Diagnostic(err.message, node.source.locate(field), path, hint))
            continue
        shapes[node.name] = output
        macs = node.op.macs(inputs, output)
        layer = LayerReport(node, inputs, output, weights, macs)
        # NOTE: the counts are computed here, in one plain loop, and stored where the cached
        # properties keep them (a cached property's first read is slow on a 50,000-layer spec).
        trainable = frozen = 0
        for weight in weights:
            if weight.trainable:
                trainable += weight.size
            else:
                frozen += weight.size
        layer.__dict__.update(trainable_params=trainable, non_trainable_params=frozen)
        trainable_sum += trainable
        frozen_sum += frozen
        macs_sum += macs
        layers.append(layer)
        known[key] = (output, weights, macs, trainable, frozen)
    if problems:
        raise SpecError(problems)
    report = Report(graph, tuple(layers))
    report.__dict__.update(
        trainable_params=trainable_sum, non_trainable_params=frozen_sum, macs=macs_sum
    )
    if report.total_params > max_params:
        # Point at the layer that holds the most: that is the line to change.
        biggest = max(report.layers, key=lambda layer: layer.params)
        message = (
            f"the model would hold {report.total_params:,} parameters, over the limit of "
            f"{max_params:,}; '{biggest.name}' alone holds {biggest.params:,}"
        )
        hint = "raise the limit on purpose with --max-params"
        source = biggest.node.source
        raise SpecError([Diagnostic(message, source.location, source.path, hint)])
    return report
