"""The weights file of an import: one ``.npz`` archive, one array per weight, keyed
``<node>/<weight>`` (``layer1_0_conv1/kernel``) in the IR's layout (Keras's), the layout
``archspec.transfer`` and every backend's ``set_weights`` take.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archspec.backends import BackendError


def save_weights(path: str | Path, report: Any, weights: dict[str, list[Any]]) -> None:
    """Write ``weights`` (node -> IR-layout arrays, in the report's weight order) to ``path``."""
    import numpy as np

    arrays = {}
    for layer in report.layers:
        for weight, value in zip(layer.weights, weights.get(layer.name, []), strict=False):
            arrays[f"{layer.name}/{weight.name}"] = np.asarray(value, dtype="float32")
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def read_weights(path: str | Path, report: Any) -> dict[str, list[Any]]:
    """Node -> arrays from a weights file, checked against the report: every weight present,
    of the right shape, and nothing left over."""
    import numpy as np

    with np.load(Path(path), allow_pickle=False) as archive:
        stored = {key: archive[key] for key in archive.files}
    found: dict[str, list[Any]] = {}
    problems = []
    for layer in report.layers:
        arrays = []
        for weight in layer.weights:
            key = f"{layer.name}/{weight.name}"
            value = stored.pop(key, None)
            if value is None:
                problems.append(f"{key} is missing")
            elif tuple(value.shape) != tuple(weight.shape):
                problems.append(f"{key} has shape {value.shape}, the spec wants {weight.shape}")
            arrays.append(value)
        if arrays:
            found[layer.name] = arrays
    problems += [f"{key} is not a weight of {report.name!r}" for key in sorted(stored)][:5]
    if problems:
        raise BackendError(f"{path}: weights do not fit the spec: " + "; ".join(problems[:8]))
    return found


def load_weights(model: Any, path: str | Path, report: Any = None) -> None:
    """Put a weights file into a model archspec built (Keras, PyTorch or ONNX)."""
    from archspec.backends import get_backend
    from archspec.transfer import backend_of, spec_report

    report = report if report is not None else spec_report(model, model)
    get_backend(backend_of(model)).set_weights(model, report, read_weights(path, report))
