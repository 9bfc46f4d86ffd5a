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
