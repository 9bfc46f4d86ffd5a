"""Recipe ``precision`` and ``channels_last``: mixed bfloat16 trains in both backends close to
float32, channels-last PyTorch is the same function, mixed float16 is refused without a GPU, and
the generated scripts (with the new lines) stay ruff-clean."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.backends.torch.training import has_gpu
from archspec.cli import main
from archspec.training.load import load_recipe
from archspec.training.run import training_source
from tests.test_training_cli import assert_ruff_clean

SPEC = """archspec: 1
name: tiny
input: {shape: [8, 8, 1]}
layers:
  - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: relu}
  - batch_norm: {}
  - flatten: {}
  - dense: {units: 3, activation: softmax}
training:
  epochs: 1
  batch_size: 8
  data: {scale: 1.0}
  optimizer: {sgd: {learning_rate: 0.05}}
"""
# bfloat16 keeps 8 bits of mantissa (relative rounding up to 2**-9, 0.2%, per operation); after
# the 3 SGD steps of this epoch the weights have drifted by that much too. Measured here: loss
# 3.3e-3 (Keras) and 1.5e-3 (PyTorch) relative to float32, val_loss 1.3e-2 and 7.9e-3. 3e-2
# leaves about 2x room; a run that ignored the precision fails the `!=`, a wrong loss (log of a
# low-precision softmax) the tolerance.
BF16_RTOL = 3e-2


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC, encoding="utf-8")
    rng = np.random.default_rng(0)
    x = rng.random((24, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(24) % 3)
    return path


def run(spec: Path, backend: str, name: str, **overrides: object) -> list[dict]:
    return archspec.train(
        spec,
        backend=backend,
        data=spec.parent / "d.npz",
        run_dir=spec.parent / f"{backend}_{name}",
        overrides=overrides,
        progress=None,
    )


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_mixed_bfloat16_trains_close_to_float32(spec: Path, backend: str):
    plain = run(spec, backend, "f32")[0]
    mixed = run(spec, backend, "bf16", precision="mixed_bfloat16")[0]
    for key in ("loss", "val_loss"):
        assert math.isfinite(mixed[key])
        assert mixed[key] == pytest.approx(plain[key], rel=BF16_RTOL), key
        assert mixed[key] != plain[key], "bfloat16 must change the numbers a little"


def test_mixed_bfloat16_keeps_float32_variables_and_leaves_the_policy(spec: Path):
    import keras

    run(spec, "keras", "bf16", precision="mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"  # put back
    model = keras.saving.load_model(spec.parent / "keras_bf16" / "last.keras")
    assert {v.dtype for v in model.weights} == {"float32"}
    assert model.layers[1].dtype_policy.name == "mixed_bfloat16"
    assert model.layers[-1].dtype_policy.name == "float32"  # the softmax and the loss


def test_channels_last_is_the_same_function_in_torch(spec: Path):
    plain = run(spec, "torch", "plain")[0]
    nhwc = run(spec, "torch", "nhwc", channels_last=True)[0]
    for key, value in plain.items():
        assert nhwc[key] == pytest.approx(value, rel=1e-5, abs=1e-7), key


@pytest.mark.skipif(has_gpu(), reason="this machine has a GPU: mixed_float16 runs")
@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_mixed_float16_without_a_gpu_exits_2(spec: Path, backend: str, capsys):
    argv = ["train", str(spec), "--backend", backend, "--data", str(spec.parent / "d.npz")]
    status = main([*argv, "--set", "training.precision=mixed_float16", "-o", str(spec.parent)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "precision mixed_float16 needs a GPU" in err and "mixed_bfloat16" in err


@pytest.mark.parametrize("backend", ["keras", "torch"])
@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_generated_scripts_with_precision_are_ruff_clean(
    tmp_path: Path, spec: Path, backend: str, precision: str
):
    graph = archspec.load(spec)
    recipe = load_recipe(graph, overrides={"precision": precision, "channels_last": True}).recipe
    source = training_source(archspec.check(graph), recipe, backend)
    assert "PRECISION" in source
    assert ("channels_last" in source) == (backend == "torch")
    assert ("GradScaler" in source) == (backend == "torch" and precision == "mixed_float16")
    out = tmp_path / f"train_{backend}.py"
    out.write_text(source, encoding="utf-8")
    assert_ruff_clean(out)
