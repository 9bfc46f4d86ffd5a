"""Every op kind lowers to Keras exactly as the IR says.

One tiny spec per case (8x8 inputs); shapes and parameter counts are compared with the checker,
and numerics with PyTorch's reference operators where the IR follows PyTorch's semantics.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.backends import BackendError
from archspec.backends.keras.calls import KERAS_DEFAULTS
from archspec.backends.keras.lowering import ROWS
from archspec.ops import OPS

keras = pytest.importorskip("keras")

# (case id, input shape, layers) -- layers as YAML list items.
CASES = [
    ("dense", "[6]", "- dense: {units: 5, activation: gelu, kernel_initializer: he_normal}"),
    ("activation", "[8, 8, 4]", "- activation: {function: leaky_relu}"),
    ("relu", "[8, 8, 4]", "- relu: {}"),
    ("relu6", "[8, 8, 4]", "- relu6: {}"),
    ("gelu", "[8, 8, 4]", "- gelu: {}"),
    ("sigmoid", "[8, 8, 4]", "- sigmoid: {}"),
    ("tanh", "[8, 8, 4]", "- tanh: {}"),
    ("silu", "[8, 8, 4]", "- silu: {}"),
    ("softmax", "[8, 8, 4]", "- softmax: {}"),
    ("leaky_relu", "[8, 8, 4]", "- leaky_relu: {negative_slope: 0.1}"),
    ("elu", "[8, 8, 4]", "- elu: {alpha: 0.5}"),
    ("dropout", "[8, 8, 4]", "- dropout: {rate: 0.25}"),
    ("flatten", "[8, 8, 4]", "- flatten: {}"),
    ("reshape", "[8, 8, 4]", "- reshape: {target_shape: [16, -1]}"),
    ("conv2d", "[8, 8, 4]", "- conv2d: {filters: 6, kernel_size: 3, strides: 2, padding: same}"),
    (
        "conv2d_pads",
        "[8, 8, 4]",
        "- conv2d: {filters: 6, kernel_size: [3, 2], strides: 2, padding: [[1, 2], [0, 1]]}",
    ),
    ("conv2d_pad1", "[8, 8, 4]", "- conv2d: {filters: 6, kernel_size: 3, padding: 1}"),
    (
        "conv2d_groups",
        "[8, 8, 4]",
        "- conv2d: {filters: 6, kernel_size: 3, groups: 2, dilation_rate: 2, padding: [1, 2]}",
    ),
    ("conv1d", "[10, 4]", "- conv1d: {filters: 3, kernel_size: 3, strides: 2, padding: [[2, 1]]}"),
    ("conv1d_pad", "[10, 4]", "- conv1d: {filters: 3, kernel_size: 3, padding: 1}"),
    (
        "depthwise_conv2d",
        "[8, 8, 4]",
        "- depthwise_conv2d: {kernel_size: 3, depth_multiplier: 2, strides: 2, padding: 1}",
    ),
    (
        "separable_conv2d",
        "[8, 8, 4]",
        "- separable_conv2d: {filters: 6, kernel_size: 3, depth_multiplier: 2, padding: same}",
    ),
    ("max_pool2d", "[8, 8, 4]", "- max_pool2d: {pool_size: 3, strides: 2, padding: 1}"),
    ("max_pool2d_ceil", "[8, 8, 4]", "- max_pool2d: {pool_size: 3, strides: 2, rounding: ceil}"),
    (
        "max_pool2d_pad_ceil",
        "[7, 7, 4]",
        "- max_pool2d: {pool_size: 3, strides: 2, padding: 1, rounding: ceil}",
    ),
    ("max_pool2d_same", "[7, 7, 4]", "- max_pool2d: {pool_size: 3, strides: 2, padding: same}"),
    ("max_pool2d_s1", "[7, 7, 4]", "- max_pool2d: {pool_size: 3, strides: 1, padding: 1}"),
    ("avg_pool2d", "[8, 8, 4]", "- avg_pool2d: {pool_size: 3, strides: 2, padding: 1}"),
    ("avg_pool2d_same", "[7, 7, 4]", "- avg_pool2d: {pool_size: 3, strides: 2, padding: same}"),
    ("global_avg_pool2d", "[8, 8, 4]", "- global_avg_pool2d: {}"),
    ("global_max_pool2d", "[8, 8, 4]", "- global_max_pool2d: {}"),
    ("adaptive_avg_pool2d", "[8, 8, 4]", "- adaptive_avg_pool2d: {output_size: [4, 2]}"),
    ("zero_padding2d", "[8, 8, 4]", "- zero_padding2d: {padding: [[1, 2], [3, 0]]}"),
    (
        "batch_norm",
        "[8, 8, 4]",
        "- batch_norm: {epsilon: 1.0e-5, momentum: 0.9, center: false}",
    ),
    ("layer_norm", "[8, 8, 4]", "- layer_norm: {epsilon: 1.0e-5, scale: false}"),
    (
        "local_response_norm",
        "[5, 5, 7]",
        "- local_response_norm: {size: 4, alpha: 0.01, beta: 0.5, k: 2.0}",
    ),
]
# Issue 14's ops (numerics across all backends: tests/test_modern_ops.py).
CASES += [
    ("swish", "[8, 8, 4]", "- swish: {}"),
    ("hard_sigmoid", "[8, 8, 4]", "- hard_sigmoid: {}"),
    ("hard_swish", "[8, 8, 4]", "- hard_swish: {}"),
    (
        "conv2d_transpose",
        "[5, 6, 4]",
        "- conv2d_transpose: {filters: 3, kernel_size: 3, strides: 2, padding: same,"
        " output_padding: 1}",
    ),
    ("upsampling2d", "[4, 5, 3]", "- upsampling2d: {size: [2, 3], interpolation: bilinear}"),
    ("cropping2d", "[8, 8, 4]", "- cropping2d: {cropping: [[1, 2], [3, 0]]}"),
    ("rescaling", "[8, 8, 3]", "- rescaling: {scale: [0.5, 2.0, 1.0], offset: -1.0}"),
    ("normalization", "[8, 8, 3]", "- normalization: {}"),
    (
        "normalization_given",
        "[8, 8, 3]",
        "- normalization: {mean: [1, 2, 3], variance: [4.0, 1.0, 0.25]}",
    ),
    ("layer_scale", "[8, 8, 4]", "- layer_scale: {init_value: 0.1}"),
    ("class_token", "[5, 8]", "- class_token: {}"),
    ("position_embedding", "[5, 8]", "- position_embedding: {}"),
    ("multi_head_attention", "[5, 8]", "- multi_head_attention: {num_heads: 2, dropout: 0.1}"),
    ("dense_tokens", "[5, 8]", "- dense: {units: 6, activation: softmax}"),
    ("permute", "[5, 8]", "- permute: {dims: [2, 1]}"),
    ("take", "[5, 8]", "- take: {index: -1}"),
    ("global_avg_keepdims", "[8, 8, 4]", "- global_avg_pool2d: {keepdims: true}"),
    (
        "max_pool2d_small_ceil",
        "[2, 2, 4]",
        "- max_pool2d: {pool_size: 3, strides: 2, rounding: ceil}",
    ),
]
_BRANCHES = """\
- conv2d: {filters: 4, kernel_size: 1}
  name: left
- conv2d: {filters: 4, kernel_size: 1}
  name: right
  inputs: [input]
"""
for _kind, _fields in (("add", "{}"), ("multiply", "{}"), ("concatenate", "{axis: 0}")):
    CASES.append((_kind, "[8, 8, 4]", _BRANCHES + f"- {_kind}: {_fields}\n  inputs: [left, right]"))


def spec_text(case: str, shape: str, layers: str, params: str = "") -> str:
    body = textwrap.indent(layers, "  ")
    return f"archspec: 1\nname: t_{case}\n{params}input: {{shape: {shape}}}\nlayers:\n{body}\n"


class Built(dict):
    """case id -> (report, live model), each built once, on first use (one broken case fails
    only its own tests)."""

    def __missing__(self, case: str):
        shape, layers = {c: (s, y) for c, s, y in CASES}[case]
        report = archspec.check(archspec.load(spec_text(case, shape, layers)))
        self[case] = (report, archspec.build(report, backend="keras"))
        return self[case]


@pytest.fixture(scope="module")
def built() -> Built:
    return Built()


def model_for(layers: str, shape: str = "[8, 8, 4]"):
    report = archspec.check(archspec.load(spec_text("extra", shape, layers)))
    return report, archspec.build(report, backend="keras")


def run(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x, training=False))


def nchw(x: np.ndarray):
    torch = pytest.importorskip("torch")
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def nhwc(t) -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1)


def test_every_op_kind_has_a_keras_lowering_and_a_case():
    kinds = set(OPS) - {"input"}
    assert set(ROWS) == kinds
    covered = {archspec.load(spec_text(c, s, y)).nodes[-1].kind for c, s, y in CASES}
    assert covered == kinds


def test_dropped_arguments_equal_keras_defaults():
    for func, defaults in KERAS_DEFAULTS.items():
        module, name = func.split(".")
        signature = inspect.signature(getattr(getattr(keras, module), name).__init__)
        for key, value in defaults.items():
            default = signature.parameters[key].default
            if isinstance(default, tuple) and len(set(default)) == 1:
                default = default[0]
            assert (type(default), default) == (type(value), value), f"{func}.{key}"


@pytest.mark.parametrize("case", [c[0] for c in CASES])
def test_shapes_counts_and_names_equal_the_checkers(built, case):
    report, model = built[case]
    assert keras_counts(model) == (report.total_params, report.trainable_params)
    names = {layer.name for layer in model.layers}
    for layer in report.layers:
        assert tuple(model.get_layer(layer.name).output.shape) == (None, *layer.output_shape)
        assert len(model.get_layer(layer.name).weights) == len(layer.weights)
    # Only <node>_pad helpers beyond the nodes, and they own no weights.
    for extra in names - {node.name for node in report.graph.nodes}:
        assert extra.endswith("_pad") and not model.get_layer(extra).weights


def keras_counts(model) -> tuple[int, int]:
    return model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_generated_sources_are_ruff_clean(tmp_path: Path):
    for case, shape, layers in CASES:
        text = archspec.generate(spec_text(case, shape, layers), backend="keras")
        (tmp_path / f"{case}.py").write_text(text, encoding="utf-8")
    ruff_clean(tmp_path)


def ruff_clean(folder: Path) -> None:
    common = ["--isolated", "--line-length", "100", "--target-version", "py311"]
    rules = ["--select", "E,F,W,I,B,UP,SIM,RUF"]
    for command in (["check", *common, *rules], ["format", "--check", *common]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(folder)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("case", "padding", "ceil"),
    [
        ("max_pool2d", 1, False),
        ("max_pool2d_ceil", 0, True),
        ("max_pool2d_pad_ceil", 1, True),
        ("max_pool2d_s1", 1, False),
    ],
)
def test_max_pool_padding_and_ceil_match_torch(built, case, padding, ceil):
    torch = pytest.importorskip("torch")
    report, model = built[case]
    op = report.layers[-1].node.op
    # All values negative: zero padding would win a max, -inf padding never does.
    x = np.random.default_rng(0).uniform(-5, -1, (2, *report.layers[0].output_shape))
    x = x.astype("float32")
    expected = torch.nn.functional.max_pool2d(
        nchw(x), op.pool_size, op.strides, padding=padding, ceil_mode=ceil
    )
    np.testing.assert_array_equal(run(model, x), nhwc(expected))


def test_avg_pool_explicit_padding_counts_zeros_like_torch(built):
    torch = pytest.importorskip("torch")
    _, model = built["avg_pool2d"]
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    expected = torch.nn.functional.avg_pool2d(nchw(x), 3, 2, padding=1, count_include_pad=True)
    np.testing.assert_allclose(run(model, x), nhwc(expected), atol=1e-6)


def test_avg_pool_ceil_with_a_partial_window_is_refused_naming_the_node():
    with pytest.raises(BackendError, match=r"'pool_x'.*rounding"):
        model_for("- avg_pool2d: {pool_size: 3, strides: 2, rounding: ceil}\n  name: pool_x")


def test_conv_explicit_padding_groups_and_dilation_match_torch(built):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    for case, pads, groups, dilation, strides in (
        ("conv2d_pads", (0, 1, 1, 2), 1, 1, 2),
        ("conv2d_groups", (2, 2, 1, 1), 2, 2, 1),
        ("conv2d_pad1", (1, 1, 1, 1), 1, 1, 1),
    ):
        _, model = built[case]
        kernel, bias = model.get_layer("conv2d").get_weights()
        x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
        padded = functional.pad(nchw(x), pads)  # (left, right, top, bottom)
        weight = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
        expected = functional.conv2d(
            padded, weight, torch.from_numpy(bias), strides, 0, dilation, groups
        )
        np.testing.assert_allclose(run(model, x), nhwc(expected), atol=1e-5)


def test_local_response_norm_matches_torch(built):
    torch = pytest.importorskip("torch")
    for size in (4, 5):
        _, model = (
            built["local_response_norm"]
            if size == 4
            else model_for(
                "- local_response_norm: {size: 5, alpha: 0.01, beta: 0.5, k: 2.0}", "[5, 5, 7]"
            )
        )
        x = np.random.default_rng(size).normal(size=(2, 5, 5, 7)).astype("float32") * 3
        expected = torch.nn.functional.local_response_norm(nchw(x), size, 0.01, 0.5, 2.0)
        np.testing.assert_allclose(run(model, x), nhwc(expected), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("case", "reference"),
    [
        ("gelu", lambda t, f: f.gelu(t, approximate="none")),
        ("leaky_relu", lambda t, f: f.leaky_relu(t, 0.1)),
        ("activation", lambda t, f: f.leaky_relu(t, 0.2)),
        ("elu", lambda t, f: f.elu(t, 0.5)),
        ("softmax", lambda t, f: f.softmax(t, dim=1)),
        ("adaptive_avg_pool2d", lambda t, f: f.adaptive_avg_pool2d(t, (4, 2))),
        ("relu6", lambda t, f: f.relu6(t)),
        ("silu", lambda t, f: f.silu(t)),
    ],
)
def test_activations_and_adaptive_pooling_match_torch(built, case, reference):
    torch = pytest.importorskip("torch")
    _, model = built[case]
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32") * 4
    expected = reference(nchw(x), torch.nn.functional)
    np.testing.assert_allclose(run(model, x), nhwc(expected), rtol=1e-5, atol=1e-6)


def test_batch_norm_and_layer_norm_settings(built):
    layer = built["batch_norm"][1].get_layer("batch_norm")
    assert (layer.epsilon, layer.momentum, layer.center, layer.scale) == (1e-5, 0.9, False, True)
    layer = built["layer_norm"][1].get_layer("layer_norm")
    assert (layer.epsilon, layer.center, layer.scale) == (1e-5, True, False)


def test_initializers_and_regularizers_as_the_ir_says():
    _, model = model_for(
        "- dense: {units: 3, kernel_initializer: {name: variance_scaling, scale: 2.0, "
        "mode: fan_out, distribution: untruncated_normal}, bias_initializer: "
        "{name: constant, value: 0.5}, kernel_regularizer: {l1: 0.01, l2: 0.02}}\n"
        "- dense: {units: 2, kernel_initializer: he_normal, bias_regularizer: {l2: 0.1}, "
        "bias_initializer: {name: random_uniform, minval: 1.0, maxval: 2.0}}",
        "[4]",
    )
    first, second = model.get_layer("dense"), model.get_layer("dense_1")
    config = first.kernel_initializer.get_config()
    assert type(first.kernel_initializer).__name__ == "VarianceScaling"
    assert (config["scale"], config["mode"], config["distribution"]) == (
        2.0,
        "fan_out",
        "untruncated_normal",
    )
    np.testing.assert_array_equal(first.bias.numpy(), np.full(3, 0.5, "float32"))
    assert type(second.kernel_initializer).__name__ == "HeNormal"
    assert np.all((second.bias.numpy() >= 1.0) & (second.bias.numpy() <= 2.0))
    kernel, bias = first.kernel.numpy(), second.bias.numpy()
    expected = 0.01 * np.abs(kernel).sum() + 0.02 * (kernel**2).sum() + 0.1 * (bias**2).sum()
    np.testing.assert_allclose(sum(float(v) for v in model.losses), expected, rtol=1e-5)


def test_concatenate_axis_excludes_the_batch(built):
    report, model = built["concatenate"]
    assert model.get_layer("concatenate").axis == 1
    assert tuple(model.output.shape) == (None, 16, 8, 4) == (None, *report.output_shape)


def test_groups_depthwise_and_separable_arguments(built):
    assert built["conv2d_groups"][1].get_layer("conv2d").groups == 2
    depthwise = built["depthwise_conv2d"][1].get_layer("depthwise_conv2d")
    assert depthwise.depth_multiplier == 2
    separable = built["separable_conv2d"][1].get_layer("separable_conv2d")
    assert (separable.depth_multiplier, separable.filters) == (2, 6)


def test_a_node_named_like_a_helper_layer_is_refused_clearly():
    layers = "- conv2d: {filters: 2, kernel_size: 3, padding: [[0, 1], [1, 0]]}\n  name: c\n"
    # Refused at naming time (frontend/names.py HELPER_SUFFIXES), so check and build agree.
    with pytest.raises(archspec.SpecError, match="'c_pad' is reserved"):
        archspec.load(spec_text("clash", "[8, 8, 4]", layers + "- relu: {}\n  name: c_pad"))
