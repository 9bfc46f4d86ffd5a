"""The import pipeline: read the model, write the spec, load it back, rename the weights,
and compare outputs (``compare.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archspec.diagnostics import SpecError
from archspec.importers.model import Imported, ModelImportError, avoid_helper_names
from archspec.importers.writer import write_spec

READERS = {
    ".keras": ("archspec.importers.keras_reader", "read_keras"),
    ".onnx": ("archspec.importers.onnx_reader", "read_onnx"),
    ".pt2": ("archspec.importers.torch_reader", "read_pt2"),
}


@dataclass
class ImportResult:
    """What an import produced: the spec text, its checked report, IR-layout weights keyed by
    node name, and the comparison of outputs (empty when not verified)."""

    spec: str
    report: Any
    weights: dict[str, list[Any]]
    imported: Imported
    comparison: list[Any] = field(default_factory=list)


def read_model(model: Any, input_shape: Any = None) -> Imported:
    """The imported layers of a model file, or of a live ``torch.nn.Module``."""
    import importlib

    if isinstance(model, str | Path):
        suffix = Path(model).suffix.lower()
        if suffix not in READERS:
            known = ", ".join(READERS)
            raise ModelImportError(f"{model}: unknown model format {suffix!r} (known: {known})")
        if not Path(model).is_file():
            raise ModelImportError(f"{model}: no such file")
        module, function = READERS[suffix]
        return getattr(importlib.import_module(module), function)(Path(model))
    from archspec.importers.torch_reader import read_module

    return read_module(model, input_shape)


def import_model(
    model: Any, input_shape: Any = None, verify: bool = False, doc: str = ""
) -> ImportResult:
    """Import ``model`` into a spec; raise ModelImportError when it cannot be exact."""
    from archspec.api import check, load

    imported = read_model(model, input_shape)
    avoid_helper_names(imported)
    text = write_spec(imported, doc)
    try:
        report = check(load(text))
    except SpecError as err:  # the checker refuses what no layer mapping caught
        raise _located(err, imported) from None
    _same_layers(imported, report)
    # float32, contiguous and writable (ONNX's arrays are read-only views of the file)
    weights = {
        name: [np.array(a, dtype="float32") for a in arrays]
        for name, arrays in imported.weights().items()
    }
    result = ImportResult(text, report, weights, imported)
    if verify:
        from archspec.importers.compare import compare_import

        result.comparison = compare_import(model, result)
    return result


def _located(err: SpecError, imported: Imported) -> ModelImportError:
    """The checker's first complaint, blamed on the model's layer whose node it names."""
    message = err.diagnostics[0].message
    by_node = {x.name: x for x in imported.layers}
    for diagnostic in err.diagnostics:
        for name, layer in by_node.items():
            if re.search(rf"'{re.escape(name)}'", diagnostic.message):
                return layer.origin.error(f"archspec cannot express it: {diagnostic.message}")
    return ModelImportError(f"archspec cannot express the model: {message}")


def _same_layers(imported: Imported, report: Any) -> None:
    """The written spec must expand to exactly the imported layers: same names, ops, wiring."""
    expected = [(x.name, x.kind) for x in imported.layers]
    found = [(layer.name, layer.kind) for layer in report.layers[1:]]
    if sorted(expected) != sorted(found):
        missing = sorted(set(expected) - set(found))[:5]
        extra = sorted(set(found) - set(expected))[:5]
        raise ModelImportError(
            f"internal error: the written spec does not expand to the model's layers "
            f"(missing {missing}, unexpected {extra})"
        )
    for layer in imported.layers:
        node = report.layer(layer.name)
        want = list(layer.inputs)
        if list(node.node.inputs) != want:
            raise ModelImportError(
                f"internal error: node {node.name!r} reads {list(node.node.inputs)}, "
                f"the model's layer reads {want}"
            )
        shapes = [tuple(w.shape) for w in node.weights]
        if shapes != [tuple(w.shape) for w in layer.weights]:
            raise layer.origin.error(
                f"its weights {[tuple(w.shape) for w in layer.weights]} do not fit the spec's "
                f"{shapes}"
            )
