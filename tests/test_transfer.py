"""archspec.transfer_weights between real Keras and real PyTorch models, both directions.

Weights are randomised natively on the source side (every bias, gamma and moving statistic
away from its default), copied across, and every layer's output compared on a random batch in
inference mode: the model outputs within 1e-4 absolute, and each layer within 1e-4 of its scale.
The reference specs run at the smallest input they accept (and 10 classes) to stay fast; ``pytest
-m slow`` runs them as written, and ``test_verify`` runs alexnet as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from test_torch_ops import CASES

import archspec
from archspec.backends import BackendError
from archspec.passes.check import Report
from archspec.verify import keras_outputs, torch_outputs

SPECS = sorted((Path(__file__).resolve().parents[1] / "specs").glob("*.yaml"))
TOLERANCE = 1e-4


# Declared limitations of the Keras backend: it refuses these specs with a BackendError.
KERAS_UNSUPPORTED = {"avg_pool_ceil"}  # a partial window's PyTorch divisor has no Keras form
SIZES = (32, 64, 96, 128, 160, 192, 224, 227, 256)


def small(path: Path) -> Report:
    """The spec at the smallest square input it accepts, with 10 classes."""
    params = archspec.load(path).params
    overrides = {"n_classes": 10} if "n_classes" in params else {}
    shape = params.get("input_shape")
    for size in SIZES if shape else ():
        try:
            return archspec.check(
                archspec.load(path, **overrides, input_shape=[size, size, shape[-1]])
            )
        except archspec.SpecError:
            continue
    return archspec.check(archspec.load(path, **overrides))


def noise(size: int, seed: int) -> np.ndarray:
    """``size`` uniform [0, 1) float32 values, cheaply: a random pool of prime length, repeated
    (a prime period never lines up with a layout's strides, so misplaced values still show)."""
    pool = np.random.default_rng(seed).random(min(size, 1_000_003), dtype=np.float32)
    return np.resize(pool, size)


def randomize_torch(model: torch.nn.Module, seed: int) -> None:
    """Fill every parameter and buffer through PyTorch's state dict (kernels keep unit scale)."""
    with torch.no_grad():
        for index, (name, tensor) in enumerate(model.state_dict().items()):
            if name.endswith("num_batches_tracked") or not tensor.is_floating_point():
                continue  # counters (BatchNorm's, Normalization's count)
            values = torch.from_numpy(noise(tensor.numel(), seed + index)).reshape(tensor.shape)
            if name.endswith(("running_var", "variance", "weight")) and tensor.dim() == 1:
                tensor.copy_(0.5 + values)
            elif tensor.dim() == 1:
                tensor.copy_(0.4 * values - 0.2)
            else:
                limit = (3.0 / tensor[0].numel()) ** 0.5
                tensor.copy_((2 * values - 1) * limit)


def randomize_keras(model: Any, seed: int) -> None:
    """Fill every variable through Keras's own weight list."""
    for index, variable in enumerate(model.weights):
        shape = tuple(variable.shape)
        if len(shape) == 1:
            positive = variable.path.endswith(("variance", "gamma"))  # Normalization's too
            low, high = (0.5, 1.5) if positive else (-0.2, 0.2)
        else:
            fan_in = np.prod(shape[:-2]) if "depthwise" in variable.path else np.prod(shape[:-1])
            high = (3.0 / fan_in) ** 0.5
            low = -high
        values = noise(int(np.prod(shape)), seed + index).reshape(shape)
        variable.assign(low + (high - low) * values)
    for layer in model.layers:  # Keras's Normalization reads constants made from its weights
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()


def assert_same_function(report: Report, keras_model: Any, torch_model: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    batch = rng.normal(size=(2, *report.layers[0].output_shape)).astype("float32")
    expected = keras_outputs(keras_model, report, batch)
    found = torch_outputs(torch_model, report, batch)
    for layer in report.layers[1:]:
        scale = max(1.0, float(np.abs(expected[layer.name]).max()))
        diff = np.abs(expected[layer.name] - found[layer.name]).max()
        assert diff <= TOLERANCE * scale, f"{layer.name} ({layer.kind}) differs by {diff}"
    output = report.graph.output
    np.testing.assert_allclose(found[output], expected[output], rtol=0, atol=TOLERANCE)


def check_both_directions(report: Report) -> None:
    keras_model = archspec.build(report, backend="keras")
    torch_model = archspec.build(report, backend="torch").eval()
    randomize_keras(keras_model, seed=1)
    archspec.transfer_weights(keras_model, torch_model)
    assert_same_function(report, keras_model, torch_model, seed=2)
    randomize_torch(torch_model, seed=3)
    archspec.transfer_weights(torch_model, keras_model)
    assert_same_function(report, keras_model, torch_model, seed=4)


@pytest.mark.parametrize("name", sorted(set(CASES) - KERAS_UNSUPPORTED))
def test_each_op_kind_transfers(name: str) -> None:
    check_both_directions(archspec.check(CASES[name]))


@pytest.mark.parametrize("name", sorted(KERAS_UNSUPPORTED))
def test_keras_refuses_what_it_cannot_express(name: str) -> None:
    with pytest.raises(BackendError):
        archspec.build(CASES[name], backend="keras")


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_every_reference_spec_transfers(path: Path) -> None:
    check_both_directions(small(path))


@pytest.mark.slow
@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_every_reference_spec_transfers_as_written(
    path: Path, request: pytest.FixtureRequest
) -> None:
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("full-size run: pytest -m slow")
    check_both_directions(archspec.check(path))


REGULARIZED = """
archspec: 1
name: regularized
params: {decay: 0.003}
input: {shape: [8, 8, 3]}
layers:
  - conv2d: {filters: 4, kernel_size: 3, kernel_regularizer: {l2: $decay},
             bias_regularizer: {l1: 0.01}}
  - batch_norm: {gamma_regularizer: {l1: 0.002, l2: 0.001}, beta_regularizer: {l2: 0.05}}
  - depthwise_conv2d: {kernel_size: 3, depthwise_regularizer: {l1: 0.001}}
  - separable_conv2d: {filters: 3, kernel_size: 2, depthwise_regularizer: {l2: 0.02},
                       pointwise_regularizer: {l1: 0.03, l2: 0.04}, bias_regularizer: {l2: 1.0}}
  - flatten: {}
  - dense: {units: 5, kernel_regularizer: {l1: $decay, l2: $decay}, bias_regularizer: {l2: 0.1}}
"""


@pytest.mark.parametrize("source", ["regularized", "alexnet"])
def test_regularization_loss_equals_keras_losses(source: str) -> None:
    report = archspec.check(REGULARIZED) if source == "regularized" else small(SPECS[0])
    keras_model = archspec.build(report, backend="keras")
    torch_model = archspec.build(report, backend="torch")
    randomize_keras(keras_model, seed=5)
    archspec.transfer_weights(keras_model, torch_model)
    expected = sum(float(loss) for loss in keras_model.losses)
    found = torch_model.regularization_loss().item()
    assert expected > 0 and found == pytest.approx(expected, rel=1e-6)


def test_transfer_needs_models_of_one_network() -> None:
    first = archspec.build(CASES["dense_softmax"], backend="torch")
    other = archspec.build(CASES["dense_no_bias"], backend="keras")
    with pytest.raises(BackendError, match="different networks"):
        archspec.transfer_weights(first, other)
    with pytest.raises(BackendError, match="not a Keras, torch or ONNX model"):
        archspec.transfer_weights(first, object())


def test_transfer_into_a_plain_generated_module_with_spec() -> None:
    """Models that did not come from archspec.build (the generated file, run by hand) need the
    spec; with it the transfer works as for any other."""
    report = archspec.check(CASES["flatten_dense"])
    namespace: dict[str, Any] = {}
    exec(archspec.generate(report, backend="torch"), namespace)
    plain = namespace["build_model"]().eval()
    keras_model = archspec.build(report, backend="keras")
    with pytest.raises(BackendError, match="spec="):
        archspec.transfer_weights(plain, namespace["build_model"]())
    randomize_keras(keras_model, seed=6)
    archspec.transfer_weights(keras_model, plain, spec=report)
    assert_same_function(report, keras_model, plain, seed=7)
