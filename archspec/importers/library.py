"""The library face of import: ``archspec.import_model`` and ``archspec.load_weights``."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def import_model(
    model: Any,
    input_shape: Any = None,
    weights: str | Path | None = None,
    verify: bool = True,
    tolerance: float = 1e-4,
) -> str:
    """A Keras, ONNX or PyTorch model as spec text.

    Args:
        model: a ``.keras``, ``.onnx`` or ``.pt2`` path, or a live ``torch.nn.Module``.
        input_shape: for a live module, its input without the batch in PyTorch's layout,
            e.g. ``(3, 224, 224)``.
        weights: write the model's weights here (``.npz``, IR layout, keyed by node name) for
            ``load_weights`` / ``archspec build --load-weights``.
        verify: run the source and archspec's Keras and PyTorch builds on one batch and raise
            when an output differs by more than ``tolerance`` (relative to its scale, at
            least 1).

    Raises:
        ModelImportError: a layer archspec cannot express (named, with its class and place).
    """
    from archspec.backends import BackendError
    from archspec.importers.run import import_model as run
    from archspec.importers.weights import save_weights

    result = run(model, input_shape=input_shape, verify=verify)
    for difference in result.comparison:
        if difference.max_diff > tolerance * max(1.0, difference.max_value):
            raise BackendError(difference.line() + f": over the tolerance {tolerance:g}")
    if weights is not None:
        from archspec.util.files import write_with

        write_with(weights, lambda path: save_weights(path, result.report, result.weights))
    return result.spec


def load_weights(model: Any, path: str | Path, spec: Any = None) -> None:
    """Put a weights file written by import into a model built from the imported spec."""
    from archspec.api import check
    from archspec.importers.weights import load_weights as load

    load(model, path, check(spec) if spec is not None else None)
