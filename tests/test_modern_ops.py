"""Issue 14's ops compute one function in Keras, PyTorch and ONNX, with random weights.

The specs in ``tests/op_specs/modern_*.yaml`` chain every new op (squeeze-excite broadcasting,
preprocessing, hard activations, transposed convolutions under each of Keras's size rules,
upsampling, cropping, permute, take, class token, position embedding, self-attention, small
ceil-mode pools). Each is built in the three backends with the same random weights (moved
through ``transfer_weights`` both ways) and compared at 1e-4. A few definitions are checked
directly against the frameworks' own operators.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.passes.check import Report

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

SPECS = sorted((Path(__file__).parent / "op_specs").glob("modern_*.yaml"))


def random_weights(report: Report, seed: int) -> dict[str, list[np.ndarray]]:
    """IR-layout weights far from any initial value (variances positive, counts integers)."""
    rng = np.random.default_rng(seed)
    found = {}
    for layer in report.layers:
        arrays = []
        for weight in layer.weights:
            if weight.name == "count":
                arrays.append(np.array(5, np.int64))
            elif "variance" in weight.name:
                arrays.append(rng.uniform(0.3, 3.0, weight.shape).astype(np.float32))
            else:
                arrays.append(rng.normal(0.0, 0.5, weight.shape).astype(np.float32))
        if arrays:
            found[layer.name] = arrays
    return found


def channels_first(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(x, -1, 1)) if x.ndim > 2 else x


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_three_backends_agree_with_random_weights(path: Path) -> None:
    report = archspec.check(archspec.load(path))
    keras_model = archspec.build(report, backend="keras")
    archspec.backends.keras.set_weights(keras_model, report, random_weights(report, 3))
    torch_model = archspec.build(report, backend="torch").eval()
    archspec.transfer_weights(keras_model, torch_model)
    onnx_model = archspec.build(report, backend="onnx")
    archspec.transfer_weights(torch_model, onnx_model)
    back = archspec.build(report, backend="keras")
    archspec.transfer_weights(torch_model, back)

    x = np.random.default_rng(4).normal(0, 2, (2, *report.layers[0].output_shape))
    x = x.astype(np.float32)
    expected = np.asarray(keras_model(x, training=False))
    with torch.no_grad():
        found_torch = torch_model(torch.from_numpy(channels_first(x))).numpy()
    session = ort.InferenceSession(onnx_model.SerializeToString())
    found_onnx = session.run(None, {session.get_inputs()[0].name: channels_first(x)})[0]
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(found_torch, channels_first(expected), atol=1e-4 * scale)
    np.testing.assert_allclose(found_onnx, channels_first(expected), atol=1e-4 * scale)
    np.testing.assert_allclose(np.asarray(back(x, training=False)), expected, atol=1e-6)


def test_hard_activations_are_keras_3s_and_pytorchs() -> None:
    # Keras 3: hard_sigmoid = relu6(x + 3) / 6 (Keras 2's was 0.2 x + 0.5); PyTorch agrees.
    x = np.linspace(-5, 5, 101, dtype=np.float32)
    sigmoid = np.asarray(keras.activations.get("hard_sigmoid")(x))
    swish = np.asarray(keras.activations.get("hard_swish")(x))
    np.testing.assert_allclose(sigmoid, np.clip(x + 3, 0, 6) / 6, atol=1e-7)
    reference = torch.from_numpy(x)
    np.testing.assert_allclose(sigmoid, torch.nn.functional.hardsigmoid(reference), atol=1e-7)
    np.testing.assert_allclose(swish, torch.nn.functional.hardswish(reference), atol=1e-6)
    assert abs(float(sigmoid[50 + 20]) - 0.5 - 2.0 / 6) < 1e-6  # x = 2: not 0.2 * 2 + 0.5


def test_attention_weights_map_onto_pytorchs_packed_projections() -> None:
    text = (
        "archspec: 1\nname: attn\ninput: {shape: [5, 8]}\n"
        "layers:\n  - multi_head_attention: {num_heads: 2}\n"
    )
    report = archspec.check(text)
    weights = random_weights(report, 5)
    model = archspec.build(report, backend="torch").eval()
    archspec.backends.torch.set_weights(model, report, weights)
    query, query_bias, key = weights["multi_head_attention"][:3]
    packed = model.multi_head_attention.in_proj_weight.detach().numpy()
    np.testing.assert_array_equal(packed[:8], query.reshape(8, 8).T)
    np.testing.assert_array_equal(packed[8:16], key.reshape(8, 8).T)
    np.testing.assert_array_equal(
        model.multi_head_attention.in_proj_bias.detach().numpy()[:8], query_bias.reshape(8)
    )
    got = archspec.backends.torch.get_weights(model, report)["multi_head_attention"]
    for before, after in zip(weights["multi_head_attention"], got, strict=True):
        np.testing.assert_array_equal(before, after)


def test_keras_normalization_uses_weights_set_after_build() -> None:
    # Keras's Normalization reads constants made when it was built; set_weights must refresh.
    text = "archspec: 1\nname: norm\ninput: {shape: [3]}\nlayers:\n  - normalization: {}\n"
    report = archspec.check(text)
    model = archspec.build(report, backend="keras")
    arrays = [np.array([1.0, 2.0, 3.0]), np.array([4.0, 1.0, 0.25]), np.array(7)]
    archspec.backends.keras.set_weights(model, report, {"normalization": arrays})
    out = np.asarray(model(np.array([[3.0, 3.0, 3.0]], np.float32)))
    np.testing.assert_allclose(out, [[1.0, 1.0, 0.0]], atol=1e-6)


def test_small_ceil_pool_runs_where_pytorch_runs() -> None:
    # torchvision's GoogLeNet at 15x15 pools a 2x2 map with a 3x3 window, ceil_mode=True.
    text = (
        "archspec: 1\nname: tiny\ninput: {shape: [2, 2, 3]}\n"
        "layers:\n  - max_pool2d: {pool_size: 3, strides: 2, rounding: ceil}\n"
    )
    report = archspec.check(text)
    x = np.random.default_rng(0).normal(size=(1, 2, 2, 3)).astype(np.float32)
    reference = torch.nn.functional.max_pool2d(
        torch.from_numpy(channels_first(x)), 3, 2, ceil_mode=True
    )
    assert tuple(reference.shape[2:]) == report.output_shape[:2] == (1, 1)
    keras_out = np.asarray(archspec.build(report, backend="keras")(x))
    np.testing.assert_array_equal(keras_out, x.max(axis=(1, 2), keepdims=True))


def test_keras_custom_layers_survive_save_and_load(tmp_path: Path) -> None:
    from archspec.backends import keras as keras_backend
    from archspec.transfer import random_weights as spread

    report = archspec.check(archspec.load(SPECS[0]))
    model = archspec.build(report, backend="keras")
    keras_backend.set_weights(model, report, spread(report, 1))
    model.save(tmp_path / "model.keras")
    again = keras_backend.load(tmp_path / "model.keras")
    x = np.random.default_rng(2).normal(size=(2, *report.layers[0].output_shape))
    x = x.astype(np.float32)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))


def test_per_sample_dropout_drops_whole_samples_in_both_frameworks() -> None:
    # EfficientNet's drop connect: Keras's Dropout(noise_shape=(None, 1, 1, 1)).
    text = (
        "archspec: 1\nname: drop\ninput: {shape: [4, 4, 3]}\n"
        "layers:\n  - dropout: {rate: 0.5, per_sample: true}\n"
    )
    report = archspec.check(text)
    x = np.ones((64, 4, 4, 3), np.float32)
    keras_out = np.asarray(archspec.build(report, backend="keras")(x, training=True))
    torch_model = archspec.build(report, backend="torch").train()
    with torch.no_grad():
        torch_out = torch_model(torch.from_numpy(channels_first(x))).numpy()
    for out in (keras_out, torch_out):
        per_sample = out.reshape(64, -1)
        assert set(np.unique(per_sample)) <= {0.0, 2.0}
        assert (per_sample == per_sample[:, :1]).all()  # one draw per sample
        assert 0 < (per_sample[:, 0] == 0).sum() < 64
    np.testing.assert_array_equal(np.asarray(archspec.build(report, "keras")(x)), x)
