"""Human and machine summaries of a checked graph (``archspec check``).

The text summary is one table like Keras's ``model.summary()`` (layer, op, key attributes,
output shape, params, MACs; plus the inputs of each layer when the graph branches), then the
totals. In a terminal it is drawn with rich; piped, it is plain text, and rich is never imported.
"""

from __future__ import annotations

import itertools
import sys
import textwrap
from typing import IO, Any

from archspec.ops.shapes import Shape
from archspec.passes.check import LayerReport, Report

HEADER = ("Layer", "Op", "Attributes", "Output shape", "Params", "MACs")
CONNECTED = "Connected to"
NUMERIC = {"Params", "MACs"}
PIPED_WIDTH = 100  # columns of the plain table when piped or redirected (no terminal to ask)


def shape_text(shape: Shape, layout: str = "channels_last") -> str:
    """``(None, 54, 54, 96)``-style text; channels_first moves channels after the batch."""
    dims: tuple[Any, ...] = shape
    if layout == "channels_first" and len(shape) > 1:
        dims = (shape[-1], *shape[:-1])
    return "(" + ", ".join(["None", *(str(d) for d in dims)]) + ")"


def to_json(report: Report) -> dict[str, Any]:
    """The ``--format json`` object: the contract's keys, then extras."""
    return {
        "name": report.name,
        "total_params": report.total_params,
        "trainable_params": report.trainable_params,
        "non_trainable_params": report.non_trainable_params,
        **_outputs_json(report),
        "layers": [_layer_json(layer) for layer in report.layers],
        "torch_parameters": report.torch_parameters,
        "torch_buffers": report.torch_buffers,
        "macs": report.macs,
        "flops": report.flops,
        "flops_convention": "FLOPs = 2 x MACs (one multiply-accumulate = 2 operations)",
        "activation_bytes": report.activation_bytes,
        "params": dict(report.graph.params),
    }


def _outputs_json(report: Report) -> dict[str, Any]:
    """``output_shape``: one shape for one output; for several, the list of their shapes (in
    output order) and ``output_shapes`` by name."""
    shapes = {name: [None, *shape] for name, shape in report.output_shapes.items()}
    if len(shapes) == 1:
        return {"output_shape": [None, *report.output_shape]}
    return {"output_shape": list(shapes.values()), "output_shapes": shapes}


def _layer_json(layer: LayerReport) -> dict[str, Any]:
    return {
        "name": layer.name,
        "op": layer.kind,
        "output_shape": [None, *layer.output_shape],
        "params": layer.params,
        "trainable_params": layer.trainable_params,
        "non_trainable_params": layer.non_trainable_params,
        "inputs": list(layer.node.inputs),
        "macs": layer.macs,
        "attributes": layer.node.op.describe(),
    }


def readable_bytes(size: float) -> str:
    """``241.04 KB``: 1024-based units, two decimals, as Keras's summary prints weight memory."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} TB"


def weight_size(count: int, bytes_per_value: int = 4) -> str:
    """The memory of ``count`` float32 values."""
    return readable_bytes(count * bytes_per_value)


def is_chain(report: Report) -> bool:
    """True when every layer reads exactly the one before it (no branch, no merge)."""
    layers = report.layers
    return all(layer.node.inputs == (before.name,) for before, layer in itertools.pairwise(layers))


def table(report: Report, layout: str = "channels_last") -> tuple[list[str], list[list[str]]]:
    """Column names and one row of cells per layer; a DAG adds Keras's "Connected to" column."""
    header = list(HEADER)
    # NOTE: a long spec repeats a few ops (the loader shares one frozen op between layers
    # with the same fields) and shapes: each is described once.
    described: dict[int, str] = {}
    shapes: dict[Shape, str] = {}
    rows = []
    for layer in report.layers:
        op, shape = layer.node.op, layer.output_shape
        text = described.get(id(op))
        if text is None:
            text = described[id(op)] = op.describe()
        shown = shapes.get(shape)
        if shown is None:
            shown = shapes[shape] = shape_text(shape, layout)
        rows.append([layer.name, layer.kind, text, shown, f"{layer.params:,}", f"{layer.macs:,}"])
    if not is_chain(report):
        header.append(CONNECTED)
        for row, layer in zip(rows, report.layers, strict=True):
            row.append(", ".join(layer.node.inputs))
    return header, rows


def totals(report: Report) -> list[tuple[str, str]]:
    """(label, value) lines under the table: parameters, their size, MACs, activations."""
    trainable, frozen = report.trainable_params, report.non_trainable_params
    return [
        ("Total params", f"{report.total_params:,} ({weight_size(report.total_params)})"),
        ("Trainable params", f"{trainable:,} ({weight_size(trainable)})"),
        ("Non-trainable params", f"{frozen:,} ({weight_size(frozen)})"),
        (
            "PyTorch",
            f"{report.torch_parameters:,} in parameters(), {report.torch_buffers:,} in buffers",
        ),
        ("MACs", f"{report.macs:,} (FLOPs = 2 x MACs = {report.flops:,})"),
        *_outputs_line(report),
        (
            "Activation memory",
            f"{readable_bytes(report.activation_bytes)} (batch 1, float32, every output kept)",
        ),
    ]


def _outputs_line(report: Report) -> list[tuple[str, str]]:
    """An ``Outputs`` line when there are several (one output is the table's last row)."""
    if len(report.graph.outputs) == 1:
        return []
    shapes = [f"{name} {shape_text(shape)}" for name, shape in report.output_shapes.items()]
    return [("Outputs", ", ".join(shapes))]


def to_text(report: Report, layout: str = "channels_last", width: int | None = None) -> str:
    """The summary as plain text: fixed-width columns, numbers right-aligned.

    When the table is wider than ``width``, the attributes (then the inputs) leave the grid
    for an indented line under their row, so that every line fits.
    """
    header, rows = table(report, layout)
    below: list[list[str]] = [[] for _ in rows]  # the cells moved under each row
    widths = _widths(header, rows)  # a column leaving the grid leaves the others' widths
    for movable in ("Attributes", CONNECTED):
        if width is None or sum(widths) + 2 * (len(widths) - 1) <= width:
            break
        if movable in header:
            index = header.index(movable)
            header.pop(index)
            widths.pop(index)
            for row, extra in zip(rows, below, strict=True):
                cell = row.pop(index)
                if cell:
                    extra.append(f"<- {cell}" if movable == CONNECTED else cell)
    # NOTE: one format string for every row, and each distinct wrapped text wrapped once: a
    # 50,000-layer spec repeats a few attribute lines.
    template = "  ".join(
        f"{{:>{size}}}" if name in NUMERIC else f"{{:<{size}}}"
        for name, size in zip(header, widths, strict=True)
    )
    indent = " " * 4
    wrap_width = (width or 100) - len(indent)
    wrapped: dict[str, list[str]] = {}

    def line(row: list[str]) -> str:
        return template.format(*row).rstrip()

    body: list[str] = []
    for row, extra in zip(rows, below, strict=True):
        body.append(line(row))
        if extra:
            text = "  ".join(extra)
            parts = wrapped.get(text)
            if parts is None:
                parts = wrapped[text] = [
                    indent + part for part in textwrap.wrap(text, width=wrap_width)
                ]
            body += parts
    rule = "-" * len(line(header))
    out = [f'Model: "{report.name}"', rule, line(header), rule, *body, rule]
    out += [f"{label}: {value}" for label, value in totals(report)]
    return "\n".join(out)


def _widths(header: list[str], rows: list[list[str]]) -> list[int]:
    """Each column's width: its widest cell, header included."""
    return [max(map(len, column)) for column in zip(header, *rows, strict=True)]


def to_rich(report: Report, layout: str = "channels_last", width: int | None = None) -> Any:
    """The summary as a rich renderable (a table and the totals); imports rich.

    When the table is wider than ``width`` the attributes move under the op, in the same cell,
    so that no column is squeezed into broken numbers.
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    header, rows = table(report, layout)
    natural = sum(max(len(row[i]) for row in [header, *rows]) + 2 for i in range(len(header)))
    if width is not None and natural > width:
        attributes = header.index("Attributes")
        header.pop(attributes)
        rows = [_merge(row, attributes, Text) for row in rows]
    styles = {"Layer": "bold", "Op": "cyan", "Attributes": "dim", "Output shape": "green"}
    grid = Table(
        title=f'Model: "{report.name}"',
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )
    for index, name in enumerate(header):
        wraps = name in ("Attributes", "Op", CONNECTED)
        words = [w for row in rows for w in str(row[index]).split()]
        grid.add_column(
            name,
            justify="right" if name in NUMERIC else "left",
            style=styles.get(name),
            no_wrap=not wraps,
            overflow="fold",
            min_width=max([len(name), *map(len, words)]) if wraps else None,
        )
    for row in rows:
        grid.add_row(*row)
    sums = Table.grid(padding=(0, 1))
    sums.add_column(style="bold")
    sums.add_column()
    for label, value in totals(report):
        sums.add_row(f"{label}:", value)
    return Group(grid, sums)


def _merge(row: list[str], attributes: int, text: Any) -> list[Any]:
    """The row with its attributes cell appended, dimmed, under the op cell."""
    cells: list[Any] = list(row)
    extra = cells.pop(attributes)
    op = text(cells[attributes - 1])
    if extra:
        op.append("\n" + extra, style="dim")
    cells[attributes - 1] = op
    return cells


def print_summary(
    report: Report, layout: str = "channels_last", file: IO[str] | None = None
) -> None:
    """Print the summary: rich in a terminal, plain text when piped or redirected."""
    stream = file if file is not None else sys.stdout
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        try:
            from rich.console import Console
        except ImportError:  # rich is optional: the plain table says the same
            pass
        else:
            console = Console(file=stream)
            console.print(to_rich(report, layout, width=console.width))
            return
    print(to_text(report, layout, width=PIPED_WIDTH), file=stream)
