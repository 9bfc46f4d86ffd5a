"""Prove that the Keras and PyTorch models of one spec compute the same function.

Both backends are built from the spec, given the same random weights (every bias and moving
statistic away from its default, so a misplaced value shows), and run on the same random batch
in inference mode. Every layer's output is compared (Keras through a sub-model on the node
names, PyTorch through its ``forward`` run statement by statement, channels moved last), so a
mismatch points at the first layer that diverges. Exit 1 when the model outputs differ by more
than the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archspec.passes.check import Report

if TYPE_CHECKING:  # numpy and the frameworks load only when the command runs
    import numpy as np


@dataclass(frozen=True)
class LayerDiff:
    """The largest absolute difference at one node's output, and the output's own scale."""

    name: str
    kind: str
    shape: tuple[int, ...]
    max_diff: float
    max_value: float

    def diverges(self, tolerance: float) -> bool:
        """Differs by more than ``tolerance`` relative to its scale (at least 1)."""
        return self.max_diff > tolerance * max(1.0, self.max_value)


def build_pair(report: Report, seed: int) -> tuple[Any, Any]:
    """A Keras model and a PyTorch module holding the same random weights."""
    from archspec.api import build
    from archspec.backends import get_backend
    from archspec.transfer import random_weights, transfer_weights

    keras_model = build(report, backend="keras")
    torch_model = build(report, backend="torch").eval()
    get_backend("keras").set_weights(keras_model, report, random_weights(report, seed))
    transfer_weights(keras_model, torch_model)
    return keras_model, torch_model


def keras_outputs(model: Any, report: Report, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Every node's Keras output, from one sub-model over the layers named after the nodes."""
    import keras
    import numpy as np

    names = [layer.name for layer in report.layers[1:]]
    probe = keras.Model(model.inputs, {n: model.get_layer(n).output for n in names})
    values = probe([batch], training=False)
    return {n: np.asarray(values[n]) for n in names}


def torch_outputs(model: Any, report: Report, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Every node's PyTorch output in the IR's layout: channels moved last, and the features of
    a (C, H, W)-ordered flatten put back in (H, W, C) order."""
    import numpy as np
    import torch

    from archspec.backends.torch import intermediate_outputs
    from archspec.backends.torch.weights import flatten_orders

    inputs = torch.from_numpy(np.moveaxis(batch, -1, 1) if batch.ndim > 2 else batch)
    with torch.no_grad():
        found = {name: v.numpy() for name, v in intermediate_outputs(model, inputs, report).items()}
    permuted = flatten_orders(report).permuted
    for name, value in found.items():
        if name in permuted:
            spatial, channels = permuted[name][:-1], permuted[name][-1]
            grid = value.reshape(len(value), channels, *spatial)
            found[name] = np.moveaxis(grid, 1, -1).reshape(len(value), -1)
        elif value.ndim > 2:
            found[name] = np.moveaxis(value, 1, -1)
    return found


def compare(report: Report, seed: int = 0, batch_size: int = 2) -> list[LayerDiff]:
    """Per-node differences between the two backends on one random batch, in node order."""
    import numpy as np

    keras_model, torch_model = build_pair(report, seed)
    rng = np.random.default_rng(seed)
    batch = rng.normal(size=(batch_size, *report.layers[0].output_shape)).astype("float32")
    from_keras = keras_outputs(keras_model, report, batch)
    from_torch = torch_outputs(torch_model, report, batch)
    diffs = []
    for layer in report.layers[1:]:
        expected, found = from_keras[layer.name], from_torch[layer.name]
        if expected.shape != found.shape:
            raise ValueError(f"{layer.name}: Keras gives {expected.shape}, torch {found.shape}")
        diff = float(np.max(np.abs(expected - found))) if expected.size else 0.0
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        diffs.append(LayerDiff(layer.name, layer.kind, layer.output_shape, diff, scale))
    return diffs


def table(diffs: list[LayerDiff], tolerance: float) -> str:
    """One row per layer: name, op, shape, largest difference, largest value, a flag."""
    header = ("Layer", "Op", "Output shape", "max |keras - torch|", "max |keras|", "")
    rows = [
        (
            d.name,
            d.kind,
            str((None, *d.shape)),
            f"{d.max_diff:.3g}",
            f"{d.max_value:.3g}",
            "<- differs" if d.diverges(tolerance) else "",
        )
        for d in diffs
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    head = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()
    return "\n".join([head, "-" * len(head), *lines])
