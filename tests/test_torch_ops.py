"""Registry test of the PyTorch lowering: every op kind lowers, and the module it builds has
the checker's shapes (layer by layer) and parameter counts.

``CASES`` is one tiny spec per behaviour worth pinning (8x8 inputs), at least one per op kind;
``test_transfer.py`` runs the same specs through Keras and PyTorch and compares the outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

import archspec
from archspec.backends.torch import count_params, intermediate_outputs
from archspec.backends.torch.calls import torch_shape
from archspec.backends.torch.lowering import LOWERINGS
from archspec.ops import OPS


def spec(name: str, shape: list[int], *layers: dict[str, Any]) -> tuple[str, str]:
    """(name, spec text) for a chain (or a DAG, with ``name``/``inputs`` keys) of layers."""
    text = {"archspec": 1, "name": name, "input": {"shape": shape}, "layers": list(layers)}
    return name, yaml.safe_dump(text, sort_keys=False)


IMAGE = [8, 8, 3]
ODD = [7, 7, 4]
CASES = dict(
    [
        spec("dense_softmax", [6], {"dense": {"units": 4, "activation": "softmax"}}),
        spec("dense_no_bias", [6], {"dense": {"units": 3, "use_bias": False, "activation": "tanh"}}),
        spec("conv2d_same_stride2", IMAGE, {"conv2d": {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}}),
        spec("conv2d_same_even_kernel", IMAGE, {"conv2d": {"filters": 4, "kernel_size": 2, "padding": "same"}}),
        spec("conv2d_explicit_pairs", IMAGE, {"conv2d": {"filters": 4, "kernel_size": [3, 2], "padding": [[1, 0], [0, 2]], "activation": "relu"}}),
        spec("conv2d_int_padding", IMAGE, {"conv2d": {"filters": 4, "kernel_size": 3, "padding": 1, "use_bias": False}}),
        spec("conv2d_groups_dilation", [8, 8, 4], {"conv2d": {"filters": 6, "kernel_size": 3, "groups": 2, "dilation_rate": 2, "padding": "same"}}),
        spec("conv1d_same_stride2", [9, 3], {"conv1d": {"filters": 5, "kernel_size": 4, "strides": 2, "padding": "same"}}),
        spec("depthwise_mult2", IMAGE, {"depthwise_conv2d": {"kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2}}),
        spec("separable", IMAGE, {"separable_conv2d": {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2, "activation": "relu6"}}),
        spec("max_pool_same_odd", ODD, {"max_pool2d": {"pool_size": 2, "strides": 2, "padding": "same"}}),
        spec("max_pool_explicit", ODD, {"max_pool2d": {"pool_size": 3, "strides": 2, "padding": 1}}),
        spec("max_pool_ceil", ODD, {"max_pool2d": {"pool_size": 3, "strides": 2, "rounding": "ceil"}}),
        spec("avg_pool_same_odd", ODD, {"avg_pool2d": {"pool_size": 2, "strides": 2, "padding": "same"}}),
        spec("avg_pool_same_symmetric", ODD, {"avg_pool2d": {"pool_size": 3, "strides": 2, "padding": "same"}}),
        spec("avg_pool_explicit", ODD, {"avg_pool2d": {"pool_size": 3, "strides": 1, "padding": 1}}),
        spec("avg_pool_ceil", ODD, {"avg_pool2d": {"pool_size": 2, "rounding": "ceil"}}),
        spec("max_pool_same_stride1", ODD, {"max_pool2d": {"pool_size": 2, "strides": 1, "padding": "same"}}),
        spec("avg_pool_same_stride1", [6, 7, 2], {"avg_pool2d": {"pool_size": [2, 3], "strides": 1, "padding": "same"}}),
        spec("max_pool_asymmetric_ceil", [5, 9, 2], {"max_pool2d": {"pool_size": [2, 3], "strides": 3, "padding": [[1, 1], [0, 1]], "rounding": "ceil"}}),
        spec("avg_pool_asymmetric", ODD, {"avg_pool2d": {"pool_size": 3, "strides": 2, "padding": [[1, 0], [0, 1]]}}),
        spec("global_pools", IMAGE, {"global_avg_pool2d": {}, "name": "gap"}, {"global_max_pool2d": {}, "name": "gmp", "inputs": ["input"]}, {"concatenate": {}, "inputs": ["gap", "gmp"]}),
        spec("adaptive_avg_pool", IMAGE, {"adaptive_avg_pool2d": {"output_size": [2, 4]}}),
        spec("zero_padding", IMAGE, {"zero_padding2d": {"padding": [[1, 2], [0, 1]]}}),
        spec("batch_norm_image", IMAGE, {"batch_norm": {"epsilon": 0.01, "momentum": 0.9}}),
        spec("batch_norm_center_only", IMAGE, {"batch_norm": {"scale": False}}),
        spec("batch_norm_flat_scale_only", [6], {"batch_norm": {"center": False}}),
        spec("batch_norm_sequence", [9, 3], {"batch_norm": {}}),
        spec("layer_norm_image", IMAGE, {"layer_norm": {"epsilon": 1.0e-5}}),
        spec("layer_norm_flat_scale_only", [6], {"layer_norm": {"center": False}}),
        spec("local_response_norm", [8, 8, 7], {"local_response_norm": {"size": 3, "alpha": 0.5, "beta": 0.75, "k": 2.0}}),
        spec("activations", IMAGE, *({"activation": {"function": f}} for f in ("relu", "relu6", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "silu", "linear", "softmax"))),
        spec("named_activations", IMAGE, {"relu": {}}, {"relu6": {}}, {"gelu": {}}, {"sigmoid": {}}, {"tanh": {}}, {"silu": {}}, {"leaky_relu": {"negative_slope": 0.1}}, {"elu": {"alpha": 0.5}}, {"softmax": {}}),
        spec("dropout", IMAGE, {"dropout": {"rate": 0.3}}),
        spec("flatten_dense", IMAGE, {"flatten": {}}, {"dropout": {"rate": 0.5}}, {"relu": {}}, {"dense": {"units": 5}}),
        spec("flatten_output", IMAGE, {"flatten": {}}),
        spec("flatten_layer_norm_dense", IMAGE, {"flatten": {}}, {"layer_norm": {}}, {"dense": {"units": 5}}),
        spec("reshape_round_trip", IMAGE, {"reshape": {"target_shape": [4, -1, 6]}}, {"conv2d": {"filters": 2, "kernel_size": 1}}, {"reshape": {"target_shape": [-1]}}, {"dense": {"units": 3}}),
        spec("add_multiply", IMAGE, {"conv2d": {"filters": 3, "kernel_size": 1}, "name": "a"}, {"add": {}, "inputs": ["input", "a"], "name": "s"}, {"multiply": {}, "inputs": ["s", "a", "input"]}),
        spec("concatenate_axes", IMAGE, {"conv2d": {"filters": 2, "kernel_size": 1}, "name": "a"}, {"concatenate": {"axis": 0}, "inputs": ["input", "input"], "name": "rows"}, {"concatenate": {"axis": 1}, "inputs": ["a", "a"], "name": "cols"}, {"flatten": {}, "inputs": ["rows"], "name": "f1"}, {"flatten": {}, "inputs": ["cols"], "name": "f2"}, {"concatenate": {}, "inputs": ["f1", "f2"]}),
    ]
)  # fmt: skip


# Issue 14's ops, one spec per file (tests/op_specs/modern_*.yaml).
CASES |= {
    p.stem: p.read_text(encoding="utf-8")
    for p in sorted((Path(__file__).parent / "op_specs").glob("modern_*.yaml"))
}


def test_every_op_kind_has_a_lowering_and_a_case() -> None:
    kinds = set(OPS) - {"input"}
    assert kinds <= set(LOWERINGS), f"no torch lowering for {kinds - set(LOWERINGS)}"
    covered = {layer.kind for text in CASES.values() for layer in archspec.check(text).layers}
    assert kinds <= covered, f"no case exercises {kinds - covered}"


@pytest.mark.parametrize("name", list(CASES))
def test_module_matches_checker(name: str) -> None:
    report = archspec.check(CASES[name])
    model = archspec.build(report, backend="torch").eval()
    assert count_params(model) == (report.total_params, report.trainable_params)
    batch = torch.randn(2, *torch_shape(report.layers[0].output_shape))
    with torch.no_grad():
        outputs = intermediate_outputs(model, batch)
        final = model(batch)
    for layer in report.layers:
        found = tuple(outputs[layer.name].shape)
        assert found == (2, *torch_shape(layer.output_shape)), layer.name
    assert torch.equal(final, outputs[report.graph.output])
