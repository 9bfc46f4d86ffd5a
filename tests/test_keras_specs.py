"""Every reference spec in specs/ builds in Keras with the checker's figures.

The folder is globbed, so a new spec is covered by adding the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import archspec
from tests.conftest import SPECS

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_keras_model_has_the_checkers_counts_and_shapes(spec: Path):
    report = archspec.check(archspec.load(spec))
    model = archspec.build(report, backend="keras")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert (model.count_params(), trainable) == (report.total_params, report.trainable_params)
    for layer in report.layers:
        found = model.get_layer(layer.name)
        assert tuple(found.output.shape) == (None, *layer.output_shape), layer.name
        assert sum(int(np.prod(w.shape)) for w in found.weights) == layer.params, layer.name
    del model
    keras.backend.clear_session()
