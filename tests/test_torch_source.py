"""The generated PyTorch source: pinned by a golden file, ruff-clean, standalone, and the same
function as the live module (it loads the live state_dict with strict=True).

Refresh the golden copy after an intended change with ``ARCHSPEC_ACCEPT=1 pytest
tests/test_torch_source.py``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from test_torch_ops import CASES, spec

import archspec
from archspec.backends.torch.source import class_name
from archspec.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "alexnet_torch.py"
ALEXNET = ROOT / "specs" / "alexnet.yaml"
RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF"


@pytest.fixture(scope="module")
def alexnet_source() -> str:
    return archspec.generate(ALEXNET, backend="torch")


def run_source(source: str, name: str = "generated") -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(source, name, "exec"), namespace)
    return namespace


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ruff", *args, "--isolated", "--line-length", "100"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_alexnet_source_matches_golden(alexnet_source: str) -> None:
    if os.environ.get("ARCHSPEC_ACCEPT") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(alexnet_source, encoding="utf-8")
    assert GOLDEN.read_text(encoding="utf-8") == alexnet_source, (
        "generated torch source changed; review it, then refresh with ARCHSPEC_ACCEPT=1"
    )


def test_source_is_standalone_and_readable(alexnet_source: str) -> None:
    tree = ast.parse(alexnet_source)
    imported = {
        alias.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import)
        for alias in n.names
    }
    imported |= {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert imported == {"torch"}
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert classes == ["AlexNet"]
    build = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "build_model")
    # n_classes and weight_decay stay arguments; input_shape fixes Linear(6400, ...) so it cannot
    assert [a.arg for a in build.args.args] == ["n_classes", "weight_decay"]
    assert "46,790,730" in alexnet_source and "2,752" in alexnet_source
    assert "F.pad" not in alexnet_source  # alexnet's paddings are all symmetric
    forward = alexnet_source[alexnet_source.index("def forward") :]
    assert forward.count("# (N, ") == len(archspec.check(ALEXNET).layers) - 1


SOURCES = {
    "alexnet": ALEXNET,
    **{p.stem: p for p in sorted((ROOT / "specs").glob("*.yaml"))},
    **CASES,
    # long names: lines must wrap exactly as ruff wraps them
    **dict([
        spec(
            "long_names_" + "n" * 40,
            [8, 8, 3],
            {"conv2d": {"filters": 4, "kernel_size": [3, 2], "strides": 2, "padding": "same", "activation": "relu", "use_bias": False, "kernel_initializer": "he_normal"}, "name": "a" * 60},
            {"depthwise_conv2d": {"kernel_size": 3, "padding": [[0, 1], [1, 0]], "depth_multiplier": 3, "depthwise_regularizer": {"l1": 0.01, "l2": 0.02}}, "name": "b" * 60},
            {"separable_conv2d": {"filters": 12, "kernel_size": 3, "padding": "same", "depth_multiplier": 2}, "name": "c" * 60},
            {"concatenate": {}, "inputs": ["b" * 60, "c" * 60, "b" * 60, "c" * 60], "name": "d" * 60},
            {"add": {}, "inputs": ["d" * 60, "d" * 60, "d" * 60], "name": "e" * 60},
        )
    ]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(SOURCES))
def test_generated_source_is_ruff_clean(name: str, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(archspec.generate(SOURCES[name], backend="torch"), encoding="utf-8")
    # a 60-character layer name cannot fit some lines in 100 columns, however they are wrapped
    ignore = ["--ignore", "E501"] if name.startswith("long_names") else []
    checked = ruff("check", "--select", RUFF_RULES, *ignore, str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = ruff("format", "--check", "--diff", str(path))
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_golden_module_loads_live_state_dict_and_agrees() -> None:
    report = archspec.check(ALEXNET)
    live = archspec.build(report, backend="torch").eval()
    namespace = run_source(GOLDEN.read_text(encoding="utf-8"), "alexnet_torch")
    module = namespace["build_model"]().eval()
    assert type(module).__name__ == "AlexNet" and isinstance(module, namespace["AlexNet"])
    torch.manual_seed(0)
    for tensor in live.state_dict().values():  # make every value count, buffers included
        if tensor.is_floating_point():
            tensor.uniform_(0.5, 1.0)
    module.load_state_dict(live.state_dict(), strict=True)
    batch = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(module(batch), live(batch))
    assert torch.equal(module.regularization_loss(), live.regularization_loss())


def test_cli_build_writes_source_and_state_dict(tmp_path: Path) -> None:
    source, saved = tmp_path / "alexnet_torch.py", tmp_path / "alexnet.pt"
    args = ["build", str(ALEXNET), "--backend", "torch", "-o", str(source), "--save", str(saved)]
    assert main(args) == 0
    assert source.read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")
    module = run_source(source.read_text(encoding="utf-8"))["build_model"]()
    module.load_state_dict(torch.load(saved), strict=True)


FREE = """
archspec: 1
name: free
params: {n_classes: 4, decay: 0.01, rate: 0.25, size: [6, 6, 2]}
input: {shape: $size}
layers:
  - conv2d: {filters: 3, kernel_size: 3, kernel_regularizer: {l2: $decay}}
  - flatten: {}
  - dropout: {rate: $rate}
  - dense: {units: $n_classes}
"""


def test_free_params_become_arguments_with_defaults() -> None:
    """Params that only name a value stay arguments; the input size, which fixes Linear's
    in_features, is baked in as the spec was loaded."""
    source = archspec.generate(FREE, backend="torch")
    assert "def build_model(n_classes: int = 4, decay: float = 0.01, rate: float = 0.25)" in source
    model = run_source(source)["build_model"](n_classes=7, decay=0.5, rate=0.125)
    assert model.dense.out_features == 7 and model.dropout.p == 0.125
    expected = 0.5 * model.conv2d.weight.square().sum()
    assert torch.allclose(model.regularization_loss(), expected)
    assert "n_classes: int = 3" in archspec.generate(archspec.load(FREE, n_classes=3), "torch")


@pytest.mark.parametrize(
    ("spec_name", "expected"),
    [("alexnet", "AlexNet"), ("resnet18", "ResNet18"), ("mobilenet_v2", "MobileNetV2"), ("tiny_cnn", "TinyCnn"), ("vgg16", "Vgg16")],
)  # fmt: skip
def test_class_name_from_spec_name(spec_name: str, expected: str) -> None:
    assert class_name(spec_name) == expected
