"""Semantics the IR pins and the PyTorch module must honour, checked against real Keras:
initializers with Keras's fans, BatchNorm epsilon and momentum in training, dropout rates,
parameter counts, and the guards around the backend.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import torch
from keras.src.initializers.random_initializers import compute_fans
from test_torch_ops import spec

import archspec
from archspec.backends import BackendError
from archspec.backends.torch import count_params
from archspec.backends.torch.weights import torch_key

ROOT = Path(__file__).resolve().parents[1]
_, INITIALIZED = spec(
    "initialized",
    [16, 16, 8],
    {"conv2d": {"filters": 32, "kernel_size": 3, "groups": 2}},
    {"depthwise_conv2d": {"kernel_size": 5, "depth_multiplier": 3}},
    {"separable_conv2d": {"filters": 40, "kernel_size": 3, "depth_multiplier": 2}},
    {"conv2d": {"filters": 16, "kernel_size": 1, "kernel_initializer": "he_uniform"}},
    {"global_avg_pool2d": {}},
    {"dense": {"units": 300, "kernel_initializer": "lecun_uniform"}},
    {"dense": {"units": 200, "kernel_initializer": "he_normal"}},
)
UNIFORM_SCALE = {"glorot_uniform": (1.0, "fan_avg"), "he_uniform": (2.0, "fan_in"), "lecun_uniform": (1.0, "fan_in")}  # fmt: skip


@pytest.fixture(scope="module")
def initialized() -> tuple[archspec.Report, torch.nn.Module]:
    torch.manual_seed(0)
    report = archspec.check(INITIALIZED)
    return report, archspec.build(report, backend="torch")


def weights_of(report: archspec.Report, model: torch.nn.Module):
    state = model.state_dict()
    for layer in report.layers:
        for weight in layer.weights:
            yield layer, weight, state[f"{layer.name}.{torch_key(layer.kind, weight.name)}"]


def test_uniform_kernels_follow_keras_fans_and_biases_are_zero(initialized) -> None:
    report, model = initialized
    checked = 0
    for layer, weight, tensor in weights_of(report, model):
        init = layer.node.op.initializer(weight)
        if weight.name == "bias":
            assert torch.count_nonzero(tensor) == 0, layer.name
            continue
        if init not in UNIFORM_SCALE:
            continue
        scale, mode = UNIFORM_SCALE[init]
        fan_in, fan_out = compute_fans(weight.shape)  # Keras's own, on Keras's layout
        fan = fan_in if mode == "fan_in" else (fan_in + fan_out) / 2
        limit = (3.0 * scale / fan) ** 0.5
        peak = tensor.abs().max().item()
        assert 0.9 * limit < peak <= limit, f"{layer.name}.{weight.name}: {peak} vs {limit}"
        checked += 1
    assert checked == 6


def test_depthwise_bound_is_keras_not_torch(initialized) -> None:
    """PyTorch would fan a depthwise kernel over 1 input channel; Keras fans it over C."""
    report, model = initialized
    tensor = model.depthwise_conv2d.weight
    torch_fan_in, torch_fan_out = torch.nn.init._calculate_fan_in_and_fan_out(tensor)
    torch_limit = (6.0 / (torch_fan_in + torch_fan_out)) ** 0.5
    fan_in, fan_out = compute_fans(report.layer("depthwise_conv2d").weights[0].shape)
    keras_limit = (6.0 / (fan_in + fan_out)) ** 0.5
    assert abs(torch_limit - keras_limit) > 0.1 * keras_limit  # the test can tell them apart
    assert 0.9 * keras_limit < tensor.abs().max().item() <= keras_limit


def test_truncated_normal_matches_keras_statistics(initialized) -> None:
    """Keras's he_normal is truncated at two standard deviations of sqrt(2 / fan_in) / .8796."""
    report, model = initialized
    tensor = model.dense_1.weight.detach().numpy()
    reference = keras.initializers.HeNormal(seed=1)(report.layer("dense_1").weights[0].shape)
    reference = np.asarray(reference)
    std = (2.0 / 300) ** 0.5 / 0.87962566103423978
    assert np.abs(tensor).max() <= 2 * std and np.abs(reference).max() <= 2 * std
    assert tensor.std() == pytest.approx(reference.std(), rel=0.05)


def test_batch_norm_training_step_matches_keras() -> None:
    op_fields = {"epsilon": 0.01, "momentum": 0.8}
    report = archspec.check(spec("bn", [5, 4, 3], {"batch_norm": op_fields})[1])
    module = archspec.build(report, backend="torch").train()
    layer = keras.layers.BatchNormalization(**op_fields)
    batch = np.random.default_rng(0).normal(2.0, 3.0, size=(4, 5, 4, 3)).astype("float32")
    expected = np.asarray(layer(batch, training=True))
    found = module(torch.from_numpy(batch).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    np.testing.assert_allclose(found.detach().numpy(), expected, atol=1e-5)
    bn = module.batch_norm
    np.testing.assert_allclose(bn.running_mean.numpy(), np.asarray(layer.moving_mean), rtol=1e-5)
    # Keras moves towards the biased batch variance, PyTorch towards the unbiased one.
    n = batch.size // batch.shape[-1]
    keras_batch_var = (np.asarray(layer.moving_variance) - 0.8) / 0.2
    torch_expected = 0.8 + 0.2 * keras_batch_var * n / (n - 1)
    np.testing.assert_allclose(bn.running_var.numpy(), torch_expected, rtol=1e-5)


def test_alexnet_counts_and_dropout_rates() -> None:
    report = archspec.check(ROOT / "specs" / "alexnet.yaml")
    model = archspec.build(report, backend="torch")
    assert count_params(model) == (46_793_482, 46_790_730)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 46_790_730
    rates = {name: getattr(model, name).p for name in ("dropout", "dropout_1")}
    assert rates == {
        layer.name: layer.node.op.rate for layer in report.layers if layer.kind == "dropout"
    }


def test_layer_name_shadowing_a_module_attribute_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loader reserves nn.Module's attributes; the backend checks again against the torch
    it runs with (a newer torch may add attributes)."""
    monkeypatch.setattr("archspec.frontend.names.RESERVED", frozenset())
    text = spec("clash", [4], {"dense": {"units": 2}, "name": "register_buffer"})[1]
    with pytest.raises(BackendError, match="register_buffer"):
        archspec.build(text, backend="torch")


def test_generating_torch_source_imports_no_framework() -> None:
    code = (
        "import sys, archspec; archspec.generate('specs/alexnet.yaml', backend='torch'); "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
