"""The checker on the reference network, against the figures Keras printed for the notebook.

The expected numbers come from the reference notebook's ``model.summary()`` (shared/seeds) and
from the issue's statement of it, not from archspec.
"""

from __future__ import annotations

import json

import pytest

import archspec
from archspec.cli import main
from archspec.ir.graph import validate
from tests.conftest import ROOT

ALEXNET = ROOT / "specs" / "alexnet.yaml"

# (op, output shape, params) per layer, in the notebook's order.
NOTEBOOK = [
    ("conv2d", (54, 54, 96), 34_944),
    ("relu", (54, 54, 96), 0),
    ("batch_norm", (54, 54, 96), 384),
    ("max_pool2d", (26, 26, 96), 0),
    ("conv2d", (26, 26, 256), 614_656),
    ("relu", (26, 26, 256), 0),
    ("batch_norm", (26, 26, 256), 1_024),
    ("max_pool2d", (12, 12, 256), 0),
    ("conv2d", (12, 12, 384), 885_120),
    ("relu", (12, 12, 384), 0),
    ("batch_norm", (12, 12, 384), 1_536),
    ("conv2d", (12, 12, 384), 1_327_488),
    ("relu", (12, 12, 384), 0),
    ("batch_norm", (12, 12, 384), 1_536),
    ("conv2d", (12, 12, 256), 884_992),
    ("relu", (12, 12, 256), 0),
    ("batch_norm", (12, 12, 256), 1_024),
    ("max_pool2d", (5, 5, 256), 0),
    ("flatten", (6400,), 0),
    ("dense", (4096,), 26_218_496),
    ("dropout", (4096,), 0),
    ("dense", (4096,), 16_781_312),
    ("dropout", (4096,), 0),
    ("dense", (10,), 40_970),
]


@pytest.fixture(scope="module")
def report() -> archspec.check:
    return archspec.check(archspec.load(ALEXNET))


def test_totals_match_the_notebook(report) -> None:
    assert report.total_params == 46_793_482
    assert report.trainable_params == 46_790_730
    assert report.non_trainable_params == 2_752
    assert report.torch_parameters == 46_790_730
    assert report.torch_buffers == 2_752


def test_every_layer_matches_the_notebook(report) -> None:
    layers = [(layer.kind, layer.output_shape, layer.params) for layer in report.layers[1:]]
    assert layers == NOTEBOOK


def test_input_and_output(report) -> None:
    assert report.layers[0].output_shape == (224, 224, 3)
    assert report.output_shape == (10,)
    assert validate(report.graph) == []


def test_macs_follow_the_conv_formula(report) -> None:
    conv1 = report.layer("conv2d")
    # 54 * 54 output positions * 96 filters * (11 * 11 * 3) taps.
    assert conv1.macs == 54 * 54 * 96 * 11 * 11 * 3
    assert report.flops == 2 * report.macs


def test_overrides_from_the_library_and_the_cli(capsys) -> None:
    assert archspec.check(archspec.load(ALEXNET, n_classes=1000)).total_params == 50_849_512
    assert main(["check", str(ALEXNET), "--set", "n_classes=1000", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_params"] == 50_849_512


def test_json_follows_the_contract(capsys) -> None:
    assert main(["check", str(ALEXNET), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("name", "total_params", "trainable_params", "non_trainable_params", "output_shape"):
        assert key in data
    assert data["name"] == "alexnet"
    assert data["output_shape"] == [None, 10]
    conv1 = data["layers"][1]
    assert {k: conv1[k] for k in ("name", "op", "output_shape", "params")} == {
        "name": "conv2d",
        "op": "conv2d",
        "output_shape": [None, 54, 54, 96],
        "params": 34_944,
    }
    assert len(data["layers"]) == len(NOTEBOOK) + 1


def test_text_summary_names_every_layer_and_the_totals(capsys) -> None:
    assert main(["check", str(ALEXNET)]) == 0
    out = capsys.readouterr().out
    assert "46,793,482" in out and "46,790,730" in out and "2,752" in out
    for name in ("conv2d_4", "batch_norm_4", "max_pool2d_2", "dense_2"):
        assert name in out


def test_param_refs_are_kept_for_generated_code(report) -> None:
    assert report.layer("dense_2").node.param_refs == {"units": "n_classes"}
    assert report.layer("conv2d_1").node.param_refs == {"kernel_regularizer.l2": "weight_decay"}
    assert report.layer("conv2d").node.param_refs == {}
