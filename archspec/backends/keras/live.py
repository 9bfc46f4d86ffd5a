"""The live side of the Keras backend: build, save, count and move weights of a ``keras.Model``.

This module imports Keras; ``archspec.backends.keras`` imports it only when a live model is
asked for, so generating source stays framework-free.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from archspec.backends import BackendError
from archspec.codegen.common import run_source
from archspec.passes.check import Report


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 while TensorFlow loads.

    NOTE: TensorFlow's C++ start-up lines (absl, oneDNN) ignore TF_CPP_MIN_LOG_LEVEL and would
    open every ``archspec build``; Python errors still surface, raised after fd 2 is back.
    """
    if "tensorflow" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
with quiet_native_stderr():
    import keras

from archspec.backends.keras import custom_layers  # noqa: E402, F401  (registers custom layers)

Weights = dict[str, list[np.ndarray]]


def build(report: Report) -> keras.Model:
    """Execute the generated source and call its ``build_model()`` (torch.fx style).

    NOTE: running the text ``generate`` returns means the live model and the source cannot
    drift apart; the one difference is that custom layer classes are imported from
    ``custom_layers`` rather than copied (the copy is that file's text), so live layers are
    importable classes with one stable registration. The text is ours: every literal went
    through ``pyrepr`` and every name through ``Namespace``, so a spec cannot inject code.
    """
    from archspec.backends.keras.source import generate

    if keras.config.image_data_format() != "channels_last":
        raise BackendError(
            "archspec's Keras models are channels_last, but keras.config.image_data_format() is "
            f"{keras.config.image_data_format()!r}; set it to 'channels_last'"
        )
    source = generate(report, standalone=False)
    filename = f"<archspec generated: {report.name}>"
    namespace = run_source(source, filename, f"archspec_generated_{report.name}")
    model = namespace["build_model"]()
    model.archspec_report = report
    check_shapes(model, report)
    return model


def check_shapes(model: keras.Model, report: Report) -> None:
    """Fail loudly if a layer's output shape differs from the checker's."""
    by_name = {layer.name: layer for layer in model.layers}  # get_layer scans: one dict instead
    for layer in report.layers:
        if layer.name not in by_name:
            raise BackendError(f"the Keras model has no layer named {layer.name!r}")
        found = tuple(by_name[layer.name].output.shape[1:])
        if found != layer.output_shape:
            raise BackendError(
                f"Keras layer {layer.name!r} outputs {found} but the checker infers "
                f"{layer.output_shape}: a lowering bug, please report it"
            )


def keras_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called ``name``, or a BackendError naming it."""
    try:
        return model.get_layer(name)
    except ValueError:
        raise BackendError(f"the Keras model has no layer named {name!r}") from None


def count_params(model: keras.Model) -> tuple[int, int]:
    """(total, trainable) as Keras counts them (BatchNorm moving statistics are non-trainable)."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return int(model.count_params()), trainable


def save(model: keras.Model, path: str | Path) -> None:
    """Write a ``.keras`` archive that ``keras.models.load_model`` reads back."""
    if Path(path).suffix != ".keras":
        suffix = Path(path).suffix or "no suffix"
        raise BackendError(f"Keras saves models as .keras files, not {suffix}")
    model.save(path)


def load(path: str | Path) -> keras.Model:
    """``keras.models.load_model`` with archspec's custom layers registered (importing this
    module registers them)."""
    return keras.models.load_model(path)


def _report(model: keras.Model, report: Report | None) -> Report:
    found = report if report is not None else getattr(model, "archspec_report", None)
    if found is None:
        raise BackendError("pass the report: this model was not built by archspec")
    return found


def get_weights(model: keras.Model, report: Report | None = None) -> Weights:
    """Node name -> its weights in IR layout and order (``op.weights``), non-trainable included.

    The IR layout is Keras's, so this is each layer's ``get_weights()``, checked against the IR.
    """
    report = _report(model, report)
    found: Weights = {}
    for layer in report.layers:
        if not layer.weights:
            continue
        arrays = keras_layer(model, layer.name).get_weights()
        _check_arrays(layer.name, [w.shape for w in layer.weights], arrays, "Keras layer has")
        found[layer.name] = [np.asarray(a) for a in arrays]
    return found


def set_weights(model: keras.Model, report: Report | None, weights: Weights) -> None:
    """Load ``weights`` (as ``get_weights`` returns them) into ``model``; every weighted node
    must be present with the IR's shapes, and no other name."""
    report = _report(model, report)
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
        keras_layer(model, name).set_weights(arrays)


def _check_arrays(name: str, shapes: list[tuple[int, ...]], arrays: list[Any], what: str) -> None:
    found = [tuple(a.shape) for a in arrays]
    if found != [tuple(s) for s in shapes]:
        raise BackendError(f"layer {name!r}: {what} shapes {found}, the IR expects {shapes}")
