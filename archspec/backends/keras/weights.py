"""Weights of a live ``keras.Model`` in the IR's layout, which is Keras's own.

The IR stores weights as Keras does, so moving them is each layer's ``get_weights()`` /
``set_weights()``, checked name by name and shape by shape against the IR. Numpy only: the model
is used through its methods, so this module imports no framework.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.backends import BackendError, model_report
from archspec.passes.check import Report

Weights = dict[str, list[np.ndarray]]


def keras_layer(model: Any, name: str) -> Any:
    """The layer called ``name``, or a BackendError naming it."""
    try:
        return model.get_layer(name)
    except ValueError:
        raise BackendError(f"the Keras model has no layer named {name!r}") from None


def get_weights(model: Any, report: Report | None = None) -> Weights:
    """Node name -> its weights in IR layout and order (``op.weights``), non-trainable included.

    The IR layout is Keras's, so this is each layer's ``get_weights()``, checked against the IR.
    """
    report = model_report(model, report)
    found: Weights = {}
    for layer in report.layers:
        if not layer.weights:
            continue
        arrays = keras_layer(model, layer.name).get_weights()
        _check_arrays(layer.name, [w.shape for w in layer.weights], arrays, "Keras layer has")
        found[layer.name] = [np.asarray(a) for a in arrays]
    return found


def set_weights(model: Any, report: Report | None, weights: Weights) -> None:
    """Load ``weights`` (as ``get_weights`` returns them) into ``model``; every weighted node
    must be present with the IR's shapes, and no other name."""
    report = model_report(model, report)
    expected = {layer.name: layer for layer in report.layers if layer.weights}
    unknown = sorted(set(weights) - set(expected))
    missing = sorted(set(expected) - set(weights))
    if unknown or missing:
        raise BackendError(
            f"weights do not match the spec: missing {missing or 'none'}, unknown {unknown or 'none'}"
        )
    for name, layer in expected.items():
        arrays = [np.asarray(a) for a in weights[name]]
        _check_arrays(name, [w.shape for w in layer.weights], arrays, "weights give")
        target = keras_layer(model, name)
        target.set_weights(arrays)
        # NOTE: Keras's Normalization computes with constants that finalize_state() derives
        # from its mean/variance weights; set_weights alone would leave them stale.
        if layer.kind == "normalization":
            target.finalize_state()


def _check_arrays(name: str, shapes: list[tuple[int, ...]], arrays: list[Any], what: str) -> None:
    found = [tuple(a.shape) for a in arrays]
    if found != [tuple(s) for s in shapes]:
        raise BackendError(f"layer {name!r}: {what} shapes {found}, the IR expects {shapes}")
