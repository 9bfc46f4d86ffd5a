"""The ONNX backend, judged by ONNX's own checker and shape inference, onnxruntime and PyTorch.

For every reference spec (glob of specs/) and two specs that use every op between them: the
model passes ``onnx.checker.check_model(full_check=True)``, ONNX shape inference finds the
checker's shapes (channels_first), and onnxruntime computes what the PyTorch backend's model
computes, within 1e-4, after both get the same weights (IR layout, via each backend's
``set_weights``). Big specs run at a smaller input size to keep the suite fast.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import archspec
from archspec.backends import BackendError
from archspec.cli import main
from archspec.diagnostics import SpecError
from archspec.ops import OPS
from archspec.passes.check import Report
from tests.conftest import SPECS

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from archspec.backends import onnx as onnx_backend  # noqa: E402
from archspec.backends import torch as torch_backend  # noqa: E402
from archspec.backends.onnx.lowering import LOWERINGS  # noqa: E402
from archspec.backends.onnx.weights import cf_shape  # noqa: E402

ALL_OPS = """
archspec: 1
name: all_ops
input: {shape: [17, 19, 4]}
layers:
  - conv2d: {filters: 6, kernel_size: 3, strides: 2, padding: same, activation: relu6}
  - depthwise_conv2d: {kernel_size: 3, depth_multiplier: 2, padding: same, activation: leaky_relu}
  - separable_conv2d: {filters: 8, kernel_size: 3, depth_multiplier: 2,
                       padding: [[1, 0], [2, 1]], activation: elu}
  - conv2d: {filters: 8, kernel_size: [3, 2], groups: 2, dilation_rate: 2, padding: 2,
             activation: gelu}
  - zero_padding2d: {padding: [[1, 2], [0, 1]]}
  - max_pool2d: {pool_size: 3, strides: 1, padding: same}
  - avg_pool2d: {pool_size: 3, strides: 2, padding: 1, rounding: ceil}
  - batch_norm: {}
  - local_response_norm: {size: 4, alpha: 0.01, beta: 0.75, k: 2.0}
  - local_response_norm: {size: 3}
  - layer_norm: {}
    name: ln
  - conv2d: {filters: 8, kernel_size: 1, activation: sigmoid}
    name: a
  - conv2d: {filters: 8, kernel_size: 1, activation: tanh, use_bias: false}
    name: b
    inputs: [ln]
  - add: {}
    inputs: [a, b, ln]
    name: s
  - multiply: {}
    inputs: [a, s, ln]
    name: m
  - concatenate: {}
    inputs: [m, a]
    name: ccat
  - concatenate: {axis: 0}
    inputs: [ccat, ccat]
  - avg_pool2d: {pool_size: 2, padding: same}
  - max_pool2d: {pool_size: 2, strides: 2, rounding: ceil}
    name: mp
  - silu: {}
  - softmax: {}
  - activation: {function: gelu}
  - relu: {}
  - leaky_relu: {negative_slope: 0.1}
  - elu: {alpha: 0.5}
  - sigmoid: {}
  - tanh: {}
  - relu6: {}
  - gelu: {}
  - adaptive_avg_pool2d: {output_size: [3, 1]}
  - reshape: {target_shape: [-1, 8]}
  - conv1d: {filters: 5, kernel_size: 2, padding: same, activation: relu}
  - batch_norm: {}
  - local_response_norm: {size: 2}
  - layer_norm: {}
  - flatten: {}
  - dense: {units: 7, activation: silu}
    name: d1
  - global_avg_pool2d: {}
    inputs: [mp]
    name: gap
  - global_max_pool2d: {}
    inputs: [mp]
    name: gmp
  - concatenate: {}
    inputs: [d1, gap, gmp]
  - batch_norm: {}
  - layer_norm: {}
  - dropout: {rate: 0.5}
  - reshape: {target_shape: [13, 1, 3]}
  - flatten: {}
  - dense: {units: 5, activation: softmax}
"""
# Options the first spec leaves at their defaults: no bias, no scale/center, odd sizes, 'same'
# with stride 2 on even sizes, explicit max-pool padding, averaged 'same' windows, axis concat.
VARIANTS = """
archspec: 1
name: variants
input: {shape: [32, 28, 3]}
layers:
  - conv2d: {filters: 4, kernel_size: 4, strides: 2, padding: same, use_bias: false}
  - depthwise_conv2d: {kernel_size: [3, 1], strides: 2, padding: same, use_bias: false}
  - separable_conv2d: {filters: 6, kernel_size: 2, padding: valid, use_bias: false}
  - max_pool2d: {pool_size: 3, strides: 2, padding: 1}
  - batch_norm: {scale: false, center: false, epsilon: 0.01}
  - layer_norm: {scale: false, center: false}
  - avg_pool2d: {pool_size: 3, strides: 2, padding: same}
    name: p
  - concatenate: {axis: 1}
    inputs: [p, p]
  - flatten: {}
  - dense: {units: 3, use_bias: false}
"""


@dataclass(frozen=True)
class Pair:
    """One spec's report, its PyTorch model and its ONNX model (and that model's bytes), holding
    the same weights."""

    report: Report
    torch_model: Any
    onnx_model: Any
    data: bytes
    weights: dict[str, list[np.ndarray]]


def small(source: Any) -> Report:
    """The spec at the smallest input side (>= 64) it accepts, or as written if it is small."""
    graph = archspec.load(source)
    shape = graph.params.get("input_shape")
    if isinstance(shape, list) and len(shape) == 3 and shape[0] > 64:
        for side in (64, 96, 128, 160, 192):
            try:
                return archspec.check(archspec.load(source, input_shape=[side, side, shape[2]]))
            except SpecError:
                continue
    return archspec.check(graph)


def lively(report: Report, weights: dict[str, list[np.ndarray]], seed: int) -> None:
    """Move BatchNorm statistics, scales and biases off their initial values (in place), so that
    a swapped mean and variance, or a dropped bias, would show."""
    rng = np.random.default_rng(seed)
    for name, arrays in weights.items():
        for index, weight in enumerate(report.layer(name).weights):
            if weight.name in ("gamma", "moving_variance", "variance"):
                arrays[index] = rng.uniform(0.5, 1.5, weight.shape).astype(np.float32)
            elif weight.name in ("beta", "moving_mean", "bias", "mean", "token") or (
                weight.name.endswith("_bias")
            ):
                arrays[index] = rng.normal(0.0, 0.1, weight.shape).astype(np.float32)


def make_pair(report: Report) -> Pair:
    """The same IR-layout weights given to both models (PyTorch's through set_weights)."""
    model = archspec.build(report, backend="torch").eval()
    weights = torch_backend.get_weights(model, report)
    lively(report, weights, seed=len(report.layers))
    torch_backend.set_weights(model, report, weights)
    proto = onnx_backend.build(report, weights)
    return Pair(report, model, proto, proto.SerializeToString(), weights)


# Issue 14's ops (also read by tests/test_torch_ops.py and tests/test_modern_ops.py).
MODERN = {
    p.stem: p.read_text(encoding="utf-8")
    for p in sorted((Path(__file__).parent / "op_specs").glob("modern_*.yaml"))
}
CASES = {p.stem: p for p in SPECS} | {"all_ops": ALL_OPS, "variants": VARIANTS} | MODERN
# Cases small enough for the slower checks (every node compared, weights read back).
SMALL = [name for name in CASES if small(CASES[name]).total_params < 15_000_000]


@functools.cache
def small_pair(name: str) -> Pair:
    """Pairs of the small cases, kept for the module (big ones are built per use)."""
    return make_pair(small(CASES[name]))


@pytest.fixture(scope="module", params=list(CASES))
def pair(request: pytest.FixtureRequest) -> Pair:
    name = request.param
    return small_pair(name) if name in SMALL else make_pair(small(CASES[name]))


def test_every_op_has_an_onnx_lowering() -> None:
    assert set(LOWERINGS) == set(OPS) - {"input"}


def test_the_op_specs_use_every_op() -> None:
    texts = (ALL_OPS, VARIANTS, *MODERN.values())
    used = {layer.kind for text in texts for layer in archspec.check(text).layers}
    assert used == set(OPS)


def test_checker_accepts_the_model(pair: Pair) -> None:
    onnx.checker.check_model(pair.data, full_check=True)


def test_shape_inference_finds_the_checkers_shapes(pair: Pair) -> None:
    inferred = onnx.shape_inference.infer_shapes(pair.data, strict_mode=True)
    values = [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]
    shapes = {
        v.name: tuple(
            d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in v.type.tensor_type.shape.dim
        )
        for v in values
    }
    for layer in pair.report.layers:
        assert shapes[layer.name] == ("N", *cf_shape(layer.output_shape)), layer.name


def run_both(pair: Pair, data: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any], Any]:
    """onnxruntime's named outputs, PyTorch's node values and PyTorch's output, for one batch."""
    report = pair.report
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((2, *cf_shape(report.layers[0].output_shape)))
    x = x.astype(np.float32)
    names = [o.name for o in session.get_outputs()]
    ours = dict(zip(names, session.run(None, {report.graph.input.name: x}), strict=True))
    with torch.no_grad():
        theirs = torch_backend.intermediate_outputs(pair.torch_model, torch.from_numpy(x), report)
        output = pair.torch_model(torch.from_numpy(x))
    # Several outputs: forward returns a tuple, in the spec's order (ONNX names each one).
    outputs = output if isinstance(output, tuple) else (output,)
    return ours, theirs, dict(zip(report.graph.outputs, (o.numpy() for o in outputs), strict=True))


def test_onnxruntime_computes_what_pytorch_computes(pair: Pair) -> None:
    ours, _, outputs = run_both(pair, pair.data)
    assert [o.name for o in pair.onnx_model.graph.output] == list(outputs)
    for name, output in outputs.items():
        np.testing.assert_allclose(ours[name], output, rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("name", SMALL)
def test_every_node_agrees_with_pytorch(name: str) -> None:
    """Every node's value, so that a difference names its layer. Rank-1 values after a flatten
    are compared only at the output: PyTorch flattens (c, h, w) and permutes the next kernel,
    this backend flattens (h, w, c); both are exact."""
    pair = small_pair(name)
    report = pair.report
    model = onnx.ModelProto()
    model.CopyFrom(pair.onnx_model)
    inferred = onnx.shape_inference.infer_shapes(model)
    spatial = {layer.name for layer in report.layers[1:] if len(layer.output_shape) > 1}
    model.graph.output.extend(v for v in inferred.graph.value_info if v.name in spatial)
    ours, theirs, outputs = run_both(pair, model.SerializeToString())
    for output_name, output in outputs.items():
        np.testing.assert_allclose(ours[output_name], output, rtol=1e-4, atol=1e-4)
    assert spatial <= ours.keys()
    for node in sorted(spatial):
        np.testing.assert_allclose(
            ours[node], theirs[node].numpy(), rtol=1e-4, atol=1e-4, err_msg=node
        )
    back = onnx_backend.get_weights(pair.onnx_model, report)
    assert back.keys() == pair.weights.keys()
    for node, arrays in pair.weights.items():
        for read, given in zip(back[node], arrays, strict=True):
            np.testing.assert_array_equal(read, given)
    count = onnx_backend.count_params(pair.onnx_model)
    assert count == (report.total_params, report.trainable_params)


def test_api_build_checks_the_count() -> None:
    report = small(CASES["lenet5"])
    model = archspec.build(report, backend="onnx")
    assert onnx_backend.count_params(model) == (report.total_params, report.trainable_params)


def test_set_weights_replaces_every_weight() -> None:
    report = small(CASES["lenet5"])
    model = onnx_backend.build(report, seed=1)
    other = onnx_backend.get_weights(onnx_backend.build(report, seed=2), report)
    onnx_backend.set_weights(model, report, other)
    for name, arrays in onnx_backend.get_weights(model, report).items():
        for ours, theirs in zip(arrays, other[name], strict=True):
            np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(BackendError, match="no weights given"):
        onnx_backend.set_weights(model, report, {})


def test_cli_writes_a_model_that_knows_its_spec(tmp_path: Path) -> None:
    target = tmp_path / "lenet5.onnx"
    spec = str(CASES["lenet5"])
    assert (
        main(["build", spec, "--backend", "onnx", "-o", str(target), "--set", "n_classes=7"]) == 0
    )
    model = onnx.load(str(target))
    onnx.checker.check_model(model, full_check=True)
    report = onnx_backend.report_of(model)
    assert report.output_shape == (7,)
    assert onnx_backend.count_params(model) == (report.total_params, report.trainable_params)


def test_cli_needs_an_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(CASES["lenet5"]), "--backend", "onnx"]) == 2
    assert "-o" in capsys.readouterr().err


def test_generate_explains_there_is_no_source() -> None:
    with pytest.raises(BackendError, match="model file"):
        archspec.generate(CASES["lenet5"], backend="onnx")


def test_an_op_without_lowering_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(LOWERINGS, "relu")
    with pytest.raises(BackendError, match=r"'relu'.*no ONNX lowering"):
        onnx_backend.build(archspec.check(ALL_OPS))


KERAS_CLASSES = {
    "variance_scaling": "VarianceScaling",
    "truncated_normal": "TruncatedNormal",
    "random_uniform": "RandomUniform",
}


@pytest.mark.parametrize(
    "initializer",
    [
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_uniform",
        "lecun_normal",
        {
            "name": "variance_scaling",
            "scale": 2.0,
            "mode": "fan_out",
            "distribution": "untruncated_normal",
        },
        {"name": "truncated_normal", "mean": 0.5, "stddev": 0.2},
        {"name": "random_uniform", "minval": -0.3, "maxval": 0.1},
    ],
    ids=str,
)
def test_initial_weights_follow_keras(initializer: Any) -> None:
    """The numpy draws have Keras's spread and range for the same kernel shape."""
    keras = pytest.importorskip("keras")
    from archspec.backends.initial_weights import draw
    from archspec.ops.base import InitializerSpec

    shape = (3, 3, 64, 96)
    spec = InitializerSpec(**initializer) if isinstance(initializer, dict) else initializer
    ours = draw(np.random.default_rng(0), spec, shape)
    bounded = "untruncated" not in str(initializer)
    if isinstance(initializer, dict):
        config = {k: v for k, v in initializer.items() if k != "name"}
        initializer = {"class_name": KERAS_CLASSES[initializer["name"]], "config": config}
    theirs = np.asarray(keras.initializers.get(initializer)(shape))
    assert ours.dtype == np.float32 and ours.shape == shape
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.01)
    if bounded:  # uniform limits, or normals cut at two standard deviations
        assert ours.min() >= theirs.min() - 0.05 * theirs.std()
        assert ours.max() <= theirs.max() + 0.05 * theirs.std()
