"""``archspec verify``: both backends, the same weights, a per-layer report and an exit status
that says whether Keras and PyTorch compute the same function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from archspec.backends.torch import weights as torch_weights
from archspec.cli import main

ROOT = Path(__file__).resolve().parents[1]

BRANCHY = """
archspec: 1
name: branchy
params: {width: 4, n_classes: 3}
input: {shape: [9, 9, 3]}
layers:
  - conv2d: {filters: $width, kernel_size: 3, strides: 2, padding: same}
    name: stem
  - batch_norm: {}
  - relu: {}
    name: trunk
  - depthwise_conv2d: {kernel_size: 3, padding: same}
    inputs: [trunk]
    name: branch
  - add: {}
    inputs: [trunk, branch]
  - avg_pool2d: {pool_size: 2, padding: same}
  - flatten: {}
  - dense: {units: $n_classes, activation: softmax}
"""


@pytest.fixture
def branchy(tmp_path: Path) -> Path:
    path = tmp_path / "branchy.yaml"
    path.write_text(BRANCHY, encoding="utf-8")
    return path


def test_alexnet_as_written_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(ROOT / "specs" / "alexnet.yaml"), "--batch", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("conv2d", "batch_norm_4", "flatten", "dense_2"):
        assert f"\n{name} " in out
    assert "model output: max |keras - torch|" in out and out.rstrip().endswith("OK")
    assert "differs" not in out


def test_overrides_and_seed_reach_both_backends(
    branchy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["verify", str(branchy), "--set", "width=6", "--set", "n_classes=5", "--seed", "7"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "(None, 5, 5, 6)" in out and "(None, 5)" in out and "seed 7" in out


def test_a_wrong_weight_fails_and_names_the_first_layer(
    branchy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transfer bug in one layer (here: the depthwise kernel loses its regrouping) must be
    caught, with the first diverging layer named."""
    original = torch_weights.to_torch

    def broken(layer: Any, weight: Any, value: np.ndarray, flat: Any) -> np.ndarray:
        moved = original(layer, weight, value, flat)
        return moved[::-1].copy() if weight.name == "depthwise" else moved

    monkeypatch.setattr(torch_weights, "to_torch", broken)
    assert main(["verify", str(branchy), "--tolerance", "1e-4"]) == 1
    captured = capsys.readouterr()
    assert "FAILED" in captured.out
    assert "first layer that differs: branch (depthwise_conv2d)" in captured.err


def test_spec_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BRANCHY.replace("filters: $width", "filters: -1"))
    assert main(["verify", str(bad)]) == 2
    assert "bad.yaml:" in capsys.readouterr().err
