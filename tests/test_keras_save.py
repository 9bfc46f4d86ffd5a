"""Saving, loading and moving weights: ``--save``, custom layer registration, get/set_weights."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import archspec
from archspec.backends import BackendError
from archspec.cli import main
from tests.conftest import ROOT
from tests.test_keras_ops import spec_text

keras = pytest.importorskip("keras")
backend = archspec.backends.get_backend("keras")

ALEXNET = ROOT / "specs" / "alexnet.yaml"
# Both custom layers, a BatchNorm (non-trainable weights) and a regularised conv.
CUSTOM = spec_text(
    "custom",
    "[8, 8, 4]",
    "- local_response_norm: {size: 3}\n"
    "- conv2d: {filters: 5, kernel_size: 3, kernel_regularizer: {l2: 0.01}}\n"
    "- batch_norm: {}\n"
    "- max_pool2d: {pool_size: 3, strides: 2, padding: 1}\n",
)


def randomized(model):
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in model.weights])
    return model


@pytest.fixture(scope="module")
def custom():
    report = archspec.check(archspec.load(CUSTOM))
    return report, randomized(archspec.build(report, backend="keras"))


def sample(model, seed: int = 0) -> np.ndarray:
    shape = (2, *model.input.shape[1:])
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_cli_build_writes_the_source_and_a_loadable_keras_file(tmp_path: Path, capsys):
    out, saved = tmp_path / "alexnet_keras.py", tmp_path / "alexnet.keras"
    args = ["build", str(ALEXNET), "--backend", "keras", "-o", str(out), "--save", str(saved)]
    assert main(args) == 0
    assert "46,793,482 params" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == archspec.generate(ALEXNET, backend="keras")
    loaded = keras.models.load_model(saved)
    live = archspec.build(ALEXNET, backend="keras")
    assert [(type(a), a.name, a.output.shape) for a in loaded.layers] == [
        (type(b), b.name, b.output.shape) for b in live.layers
    ]
    assert loaded.count_params() == live.count_params() and len(loaded.losses) == 4
    assert loaded.get_layer("conv2d_1").kernel_regularizer.l2 == pytest.approx(1e-4)
    live.set_weights(loaded.get_weights())
    x = sample(live)[:1]
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(live(x)))


def test_save_and_load_round_trip_weights_outputs_and_losses(custom, tmp_path: Path):
    report, model = custom
    backend.save(model, tmp_path / "custom.keras")
    loaded = backend.load(tmp_path / "custom.keras")
    ours, theirs = backend.get_weights(model, report), backend.get_weights(loaded, report)
    assert ours.keys() == theirs.keys() == {"conv2d", "batch_norm"}
    for name in ours:
        for a, b in zip(ours[name], theirs[name], strict=True):
            np.testing.assert_array_equal(a, b)
    x = sample(model)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    assert [float(v) for v in loaded.losses] == [float(v) for v in model.losses]


def test_save_refuses_a_file_keras_cannot_write(custom, tmp_path: Path):
    with pytest.raises(BackendError, match=r"\.keras"):
        backend.save(custom[1], tmp_path / "model.h5")


LOADER = """
import importlib.util, sys, numpy as np, keras
path, data, generated = sys.argv[1:4]
arrays = np.load(data)

def check():
    model = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(model(arrays["x"])), arrays["y"])

try:
    check()
except TypeError:
    print("unregistered: refused")
spec = importlib.util.spec_from_file_location("generated", generated)
spec.loader.exec_module(importlib.util.module_from_spec(spec))
check()
print("generated module: ok")
keras.saving.get_custom_objects().clear()
import archspec.backends.keras.custom_layers
check()
print("custom_layers: ok")
"""


def test_custom_layers_load_in_a_fresh_process_once_registered(custom, tmp_path: Path):
    # What loading needs: the generated module, or archspec.backends.keras.custom_layers.
    report, model = custom
    backend.save(model, tmp_path / "custom.keras")
    x = sample(model)
    np.savez(tmp_path / "data.npz", x=x, y=np.asarray(model(x)))
    generated = tmp_path / "custom_keras.py"
    generated.write_text(backend.generate(report), encoding="utf-8")
    paths = [str(tmp_path / name) for name in ("custom.keras", "data.npz", "custom_keras.py")]
    done = subprocess.run(
        [sys.executable, "-c", LOADER, *paths], capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout.split("\n")[:3] == [
        "unregistered: refused",
        "generated module: ok",
        "custom_layers: ok",
    ], done.stdout + done.stderr[-2000:]


def test_executing_generated_source_twice_just_replaces_the_registration(custom, tmp_path: Path):
    report, _ = custom
    text = backend.generate(report)
    first, second = ModuleType("first"), ModuleType("second")
    exec(compile(text, "first", "exec"), first.__dict__)
    exec(compile(text, "second", "exec"), second.__dict__)
    registered = keras.saving.get_registered_object("archspec>LocalResponseNorm")
    assert registered is second.LocalResponseNorm is not first.LocalResponseNorm
    assert keras.saving.get_registered_name(first.LocalResponseNorm) == "archspec>LocalResponseNorm"
    model = first.build_model()
    model.save(tmp_path / "first.keras")
    loaded = keras.models.load_model(tmp_path / "first.keras")
    assert isinstance(loaded.get_layer("local_response_norm"), second.LocalResponseNorm)
    import archspec.backends.keras.custom_layers as canonical  # restore the stable registration

    keras.saving.register_keras_serializable(package="archspec")(canonical.LocalResponseNorm)
    keras.saving.register_keras_serializable(package="archspec")(canonical.NegInfPadding2D)


def test_get_and_set_weights_move_every_weight_by_node_name(custom):
    report, model = custom
    other = archspec.build(report, backend="keras")
    weights = backend.get_weights(model)  # the report rides on the model
    assert [w.shape for w in weights["batch_norm"]] == [
        tuple(w.shape) for w in report.layer("batch_norm").weights
    ]
    backend.set_weights(other, report, weights)
    x = sample(model)
    np.testing.assert_array_equal(np.asarray(other(x)), np.asarray(model(x)))


def test_set_weights_refuses_wrong_names_and_shapes(custom):
    report, model = custom
    weights = backend.get_weights(model, report)
    with pytest.raises(BackendError, match="missing \\['batch_norm'\\]"):
        backend.set_weights(model, report, {"conv2d": weights["conv2d"]})
    with pytest.raises(BackendError, match="unknown \\['nope'\\]"):
        backend.set_weights(model, report, {**weights, "nope": []})
    bad = {**weights, "conv2d": [weights["conv2d"][0].T, weights["conv2d"][1]]}
    with pytest.raises(BackendError, match=r"'conv2d'.*IR expects"):
        backend.set_weights(model, report, bad)
    with pytest.raises(BackendError, match="pass the report"):
        backend.get_weights(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
