"""Human and machine summaries of a checked graph (``archspec check``)."""

from __future__ import annotations

from typing import Any

from archspec.ops.shapes import Shape
from archspec.passes.check import LayerReport, Report


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
        "output_shape": [None, *report.output_shape],
        "layers": [_layer_json(layer) for layer in report.layers],
        "torch_parameters": report.torch_parameters,
        "torch_buffers": report.torch_buffers,
        "macs": report.macs,
        "flops": report.flops,
        "flops_convention": "FLOPs = 2 x MACs (one multiply-accumulate = 2 operations)",
        "activation_bytes": report.activation_bytes,
        "params": dict(report.graph.params),
    }


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


def megabytes(count: int, bytes_per_value: int = 4) -> str:
    return f"{count * bytes_per_value / 2**20:,.2f} MB"


def to_text(report: Report, layout: str = "channels_last") -> str:
    """A table like Keras's ``model.summary()``, with op attributes and MACs, then totals."""
    header = ("Layer", "Op", "Attributes", "Output shape", "Params", "MACs")
    rows = [
        (
            layer.name,
            layer.kind,
            layer.node.op.describe(),
            shape_text(layer.output_shape, layout),
            f"{layer.params:,}",
            f"{layer.macs:,}",
        )
        for layer in report.layers
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {4, 5}

    def line(row: tuple[str, ...]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "-" * len(line(header))
    out = [f'Model: "{report.name}"', rule, line(header), rule, *(line(r) for r in rows), rule]
    out += [
        f"Total params: {report.total_params:,} ({megabytes(report.total_params)})",
        f"Trainable params: {report.trainable_params:,} ({megabytes(report.trainable_params)})",
        f"Non-trainable params: {report.non_trainable_params:,} ({megabytes(report.non_trainable_params)})",
        f"PyTorch: {report.torch_parameters:,} in parameters(), {report.torch_buffers:,} in buffers",
        f"MACs: {report.macs:,} (FLOPs = 2 x MACs = {report.flops:,})",
        f"Activation memory (batch 1, float32, no reuse): {report.activation_bytes / 2**20:,.2f} MB",
    ]
    return "\n".join(out)
