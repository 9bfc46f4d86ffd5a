"""What a new user meets first: errors for scripts, lines as editors count them, installs that
say what is missing, source without a framework, one seed for every backend, a readable table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.cli import main
from tests.conftest import ROOT

TINY = "archspec: 1\nname: tiny\ninput: {shape: [4]}\nlayers:\n  - dense: {units: 3}\n"
FRAMEWORKS = ("keras", "tensorflow", "torch", "onnx", "onnxruntime", "numpy")
BLOCKED_RUN = """\
import sys
BLOCKED = set(sys.argv[1].split(","))

class NotInstalled:  # as if the packages were not installed at all
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NotInstalled())
from archspec.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_without(modules: tuple[str, ...], *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", BLOCKED_RUN, ",".join(modules), *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_check_json_reports_problems_as_json(spec_file, capsys) -> None:
    path = spec_file(TINY.replace("units: 3", "units: 0") + "  - relu: 5\n")
    assert main(["check", str(path), "--format", "json"]) == 2
    captured = capsys.readouterr()
    found = json.loads(captured.out)
    assert found["ok"] is False
    first, second = found["diagnostics"]
    assert first == {
        "severity": "error",
        "file": str(path),
        "line": 5,
        "column": 20,
        "path": "layers[0].dense.units",
        "message": "invalid value 0: input should be greater than 0",
        "hint": "",
        "context": "",
    }
    assert (second["line"], second["path"]) == (6, "layers[1].relu")
    assert len(captured.err.splitlines()) == 2  # the usual lines too


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
def test_lines_are_counted_as_editors_count_them(spec_file, capsys, newline: str) -> None:
    text = TINY.replace("units: 3", "units: 0").replace("\n", newline)
    path = spec_file(text)
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"{path}:5:20: error:")
    spec_file(text + "\x07", "bell.yaml")
    assert main(["check", str(path.with_name("bell.yaml"))]) == 2
    assert ":6:1: error: invalid YAML: character U+0007" in capsys.readouterr().err


@pytest.mark.parametrize("character", ["\x85", "\u2028", "\u2029"], ids=ascii)
def test_yaml_11_line_breaks_are_refused_where_they_are(spec_file, capsys, character) -> None:
    """In a comment they would end it for YAML 1.1 (PyYAML), not for editors: hidden data."""
    path = spec_file(TINY.replace("layers:", f"# note{character}units: 5\nlayers:"))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:4:7: error: character U+{ord(character):04X} is not allowed")


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_source_needs_no_framework(tmp_path: Path, backend: str) -> None:
    spec, output = tmp_path / "spec.yaml", tmp_path / "model.py"
    spec.write_text(TINY, encoding="utf-8")
    argv = ["build", str(spec), "--backend", backend, "-o", str(output), "--no-model"]
    result = run_without(FRAMEWORKS, *argv)
    assert result.returncode == 0, result.stderr
    assert output.read_text(encoding="utf-8") == archspec.generate(spec, backend=backend)
    assert f"wrote {output} (source)" in result.stderr


@pytest.mark.parametrize(
    ("backend", "missing", "message"),
    [
        (
            "keras",
            ("keras", "tensorflow"),
            'the keras backend needs TensorFlow: pip install "archspec[keras]"',
        ),
        ("torch", ("torch",), 'the torch backend needs PyTorch: pip install "archspec[torch]"'),
        ("onnx", ("onnx",), 'the onnx backend needs onnx: pip install "archspec[onnx]"'),
    ],
)
def test_a_missing_framework_says_what_to_install(
    tmp_path: Path, backend: str, missing: tuple[str, ...], message: str
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY, encoding="utf-8")
    output = tmp_path / ("model.onnx" if backend == "onnx" else "model.py")
    result = run_without(missing, "build", str(spec), "--backend", backend, "-o", str(output))
    assert result.returncode == 1
    assert result.stderr.strip() == f"archspec: error: {message}"
    assert not output.exists()


def test_other_commands_say_what_to_install_too(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY, encoding="utf-8")
    result = run_without(("torch", "keras", "tensorflow"), "verify", str(spec))
    assert result.returncode == 1
    assert "internal error" not in result.stderr
    assert 'pip install "archspec[' in result.stderr


SEEDED = (
    "archspec: 1\nname: seeded\ninput: {shape: [6, 6, 2]}\nlayers:\n"
    "  - conv2d: {filters: 3, kernel_size: 3, kernel_initializer: he_normal}\n"
    "  - batch_norm: {}\n  - relu: {}\n  - flatten: {}\n  - dense: {units: 4}\n"
)


def test_one_seed_gives_every_backend_the_same_weights() -> None:
    torch = pytest.importorskip("torch")
    from archspec.backends import get_backend

    report = archspec.check(SEEDED)
    models = {b: archspec.build(report, backend=b, seed=7) for b in ("keras", "torch", "onnx")}
    weights = {b: get_backend(b).get_weights(m, report) for b, m in models.items()}
    for name, arrays in weights["keras"].items():
        for backend in ("torch", "onnx"):
            for ours, theirs in zip(arrays, weights[backend][name], strict=True):
                np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")
    keras_out = np.asarray(models["keras"](x, training=False))
    with torch.no_grad():
        torch_out = models["torch"].eval()(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(keras_out, torch_out, atol=1e-5)
    other = archspec.build(report, backend="torch", seed=8)
    assert not np.array_equal(
        get_backend("torch").get_weights(other, report)["dense"][0], weights["torch"]["dense"][0]
    )


def test_build_seed_saves_the_same_weights_from_the_command_line(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SEEDED, encoding="utf-8")
    for name in ("a.pt", "b.pt"):
        argv = ["build", str(spec), "--backend", "torch", "--save", str(tmp_path / name)]
        assert main([*argv, "-o", str(tmp_path / f"{name}.py"), "--seed", "3"]) == 0
    first = torch.load(tmp_path / "a.pt", weights_only=True)
    second = torch.load(tmp_path / "b.pt", weights_only=True)
    assert all(torch.equal(first[key], second[key]) for key in first)


@pytest.mark.parametrize("op", ["add", "multiply"])
def test_a_very_wide_merge_compiles_in_torch_and_equals_keras(op: str) -> None:
    """Hundreds of inputs: an operator chain would nest too deep for Python's compiler."""
    torch = pytest.importorskip("torch")
    branches = "".join(
        f"  - dense: {{units: 4}}\n    name: d{i}\n    inputs: [input]\n" for i in range(3)
    )
    names = ", ".join(f"d{i % 3}" for i in range(300))
    spec = f"archspec: 1\nname: wide\ninput: {{shape: [4]}}\nlayers:\n{branches}"
    spec += f"  - {op}: {{}}\n    inputs: [{names}]\n"
    source = archspec.generate(spec, backend="torch")
    assert source.count(" + ") < 10 and source.count(" * ") < 10
    models = {b: archspec.build(spec, backend=b, seed=1) for b in ("keras", "torch")}
    x = np.random.default_rng(0).uniform(0.99, 1.01, (2, 4)).astype("float32")
    keras_out = np.asarray(models["keras"](x))
    with torch.no_grad():
        torch_out = models["torch"](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(torch_out, keras_out, rtol=1e-5)


def test_weights_move_only_between_models_of_one_network() -> None:
    """Same layer names and weight shapes, other strides and activation: refused."""
    pytest.importorskip("torch")
    from archspec.backends import BackendError

    one = "archspec: 1\nname: one\ninput: {shape: [9, 9, 2]}\nlayers:\n"
    one += "  - conv2d: {filters: 3, kernel_size: 3, activation: relu}\n  - global_avg_pool2d: {}\n"
    other = one.replace("kernel_size: 3,", "kernel_size: 3, strides: 2,").replace("relu", "tanh")
    source, target = archspec.build(one, backend="torch"), archspec.build(other, backend="torch")
    with pytest.raises(BackendError, match=r"different networks.*'conv2d' differs: activation"):
        archspec.transfer_weights(source, target)
    with pytest.raises(BackendError, match="different networks"):
        archspec.transfer_weights(source, source, spec=other)
    archspec.transfer_weights(source, archspec.build(one, backend="torch"))  # same network


def test_the_piped_summary_fits_100_columns(capsys) -> None:
    report = archspec.check(ROOT / "specs" / "resnet18.yaml")
    assert main(["check", str(ROOT / "specs" / "resnet18.yaml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100
    starts = {line.split(" ", 1)[0] for line in lines}
    assert all(layer.name in starts for layer in report.layers)
    assert any(line.strip().startswith("filters=64 kernel_size=7") for line in lines)


STEM = (
    "archspec: 1\nname: stem\ninput: {shape: [15, 15, 2]}\nlayers:\n"
    "  - conv2d: {filters: 4, kernel_size: 3, strides: 2, padding: 1}\n"
    "  - batch_norm: {}\n  - relu: {}\n"
    "  - max_pool2d: {pool_size: 3, strides: 2, padding: 1, rounding: ceil}\n"
)


def test_a_relu_stem_saves_with_stock_keras_layers_only(tmp_path: Path) -> None:
    """ResNet's stem (ReLU, then a padded max pool): zeros pad exactly as -inf there, so the
    .keras file holds only stock layers (plain keras.models.load_model reads it) and computes
    what PyTorch does."""
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    source = archspec.generate(STEM, backend="keras")
    assert "NegInfPadding2D" not in source and "ZeroPadding2D" in source
    negative = STEM.replace("  - relu: {}\n", "")  # a max pool over any values keeps -inf
    assert "NegInfPadding2D" in archspec.generate(negative, backend="keras")
    archspec.build(STEM, backend="keras", seed=5).save(tmp_path / "stem.keras")
    with zipfile.ZipFile(tmp_path / "stem.keras") as archive:
        config = json.loads(archive.read("config.json"))
    modules = {layer["module"] for layer in config["config"]["layers"]}
    assert modules == {"keras.layers"}, modules
    model = keras.models.load_model(tmp_path / "stem.keras")
    x = np.random.default_rng(1).normal(size=(2, 15, 15, 2)).astype("float32")
    reference = archspec.build(STEM, backend="torch", seed=5).eval()
    with torch.no_grad():
        expected = reference(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(np.asarray(model(x, training=False)), expected, atol=1e-5)


def test_build_says_when_a_keras_file_needs_custom_layers(tmp_path: Path, capsys) -> None:
    pytest.importorskip("keras")
    spec = tmp_path / "spec.yaml"
    for text, custom in ((STEM.replace("  - relu: {}\n", ""), True), (STEM, False)):
        spec.write_text(text, encoding="utf-8")
        argv = ["build", str(spec), "--backend", "keras", "-o", str(tmp_path / "m.py")]
        assert main([*argv, "--save", str(tmp_path / "m.keras")]) == 0
        err = capsys.readouterr().err
        assert ("uses archspec's custom layers (NegInfPadding2D)" in err) is custom, err


def test_one_mistake_one_line(spec_file, capsys) -> None:
    """An undefined argument is not also an invalid value; an empty item hides nothing; a
    block used three times fails once, with the instance it failed in."""
    text = (
        "archspec: 1\nname: t\ninput: {shape: [8, 8, 3]}\nblocks:\n  b:\n    args: {filters: int}\n"
        "    layers:\n      - conv2d: {filters: $filtres, kernel_size: 1}\n"
        "      - dense: {units: 0}\nlayers:\n  -\n  - b: {filters: 3}\n    repeat: 3\n"
    )
    assert main(["check", str(spec_file(text))]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3, lines
    assert ":8:27: error: " in lines[0]
    assert "undefined param or argument '$filtres' (did you mean 'filters'?)" in lines[0]
    assert lines[1].endswith("input should be greater than 0 [in block 'b', instance 'b']")
    assert ":11:4: error: layers[0]: a layer must be a mapping" in lines[2]
