"""``archspec train`` and ``build --training``: located errors (exit 2), NaN (exit 1), the
generated scripts (ruff-clean, and the very text ``train`` runs), the recipe language."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.cli import main
from archspec.training.load import load_recipe
from archspec.training.run import training_source

SPEC = """archspec: 1
name: small
params: {{input_shape: [8, 8, 1], n_classes: 3}}
input: {{shape: $input_shape}}
layers:
  - flatten: {{}}
  - dense: {{units: $n_classes, activation: softmax}}
training:
  epochs: 1
  batch_size: 8
{training}
"""


def write_spec(tmp_path: Path, training: str = "") -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SPEC.format(training=training), encoding="utf-8")
    return path


def write_npz(path: Path, n: int = 24, classes: int = 3, scale: float = 1.0) -> Path:
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.random((n, 8, 8)).astype(np.float32) * scale, y=np.arange(n) % classes)
    return path


def assert_ruff_clean(script: Path) -> None:
    """``ruff check`` and ``ruff format --check`` pass on a generated script, run from the
    script's own folder, where archspec is an installed (third-party) package."""
    common = ["--isolated", "--line-length", "100", "--target-version", "py311"]
    for command in (
        ["check", *common, "--select", "E,F,W,I,B,UP,SIM,RUF"],
        ["format", "--check", *common],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(script)],
            capture_output=True,
            text=True,
            cwd=script.parent,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def errors(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("training", "line", "expected"),
    [
        ("  optimizer: {adma: {}}", 11, "unknown field 'adma' (did you mean 'adam'?)"),
        ("  optimizer: {sgd: {learning_rate: -0.1}}", 11, "training.optimizer.sgd.learning_rate"),
        ("  schedule: {cosine: {alpa: 0.1}}", 11, "did you mean 'alpha'?"),
        ("  callbacks: {early_stoping: {}}", 11, "did you mean 'early_stopping'?"),
        ("  augmentation: [{random_crop: {}}]", 11, "missing required field 'padding'"),
    ],
)
def test_bad_recipes_are_located(tmp_path, capsys, training: str, line: int, expected: str):
    spec = write_spec(tmp_path, training)
    status, err = errors(
        capsys, "train", str(spec), "--backend", "torch", "-o", str(tmp_path / "r")
    )
    assert status == 2
    assert f"{spec}:{line}:" in err and expected in err, err
    assert "Traceback" not in err
    # `archspec check` validates the recipe too: it is part of the language.
    assert errors(capsys, "check", str(spec))[0] == 2


def test_set_overrides_the_recipe(tmp_path):
    spec = write_spec(tmp_path)
    graph = archspec.load(spec)
    recipe = load_recipe(graph, overrides={"epochs": 3, "optimizer": {"sgd": {}}}).recipe
    assert recipe.epochs == 3 and recipe.optimizer.chosen().kind == "sgd"


def test_bad_set_value_is_located_at_the_option(tmp_path, capsys):
    spec = write_spec(tmp_path)
    status, err = errors(
        capsys,
        "train",
        str(spec),
        "--backend",
        "torch",
        "--set",
        "training.epochs=-1",
        "-o",
        str(tmp_path / "r"),
    )
    assert status == 2 and "--set training.epochs:1:1: error: training.epochs" in err, err


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing", "no such file or folder"),
        (lambda d: (d / "empty" / "a").mkdir(parents=True) or d / "empty", "holds no PNG or JPEG"),
        (lambda d: write_npz(d / "five.npz", classes=5), "labels run from 0 to 4 but the model's"),
    ],
    ids=["missing", "empty-class", "labels"],
)
def test_bad_data_is_located(tmp_path, capsys, make, expected):
    spec = write_spec(tmp_path, "  data: {path: here, scale: 1.0}")
    data = make(tmp_path)
    status, err = errors(
        capsys,
        "train",
        str(spec),
        "--backend",
        "torch",
        "--data",
        str(data),
        "-o",
        str(tmp_path / "r"),
    )
    assert status == 2 and expected in err, err
    assert f"{spec}:11:" in err


def test_a_corrupt_image_is_named(tmp_path, capsys):
    from PIL import Image

    spec = write_spec(tmp_path)
    for label in ("a", "b", "c"):
        (tmp_path / "images" / label).mkdir(parents=True)
        Image.new("L", (8, 8), 100).save(tmp_path / "images" / label / "ok.png")
    (tmp_path / "images" / "b" / "broken.png").write_bytes(b"\x89PNG not really")
    status, err = errors(
        capsys,
        "train",
        str(spec),
        "--backend",
        "torch",
        "--data",
        str(tmp_path / "images"),
        "-o",
        str(tmp_path / "r"),
    )
    assert status == 2 and "broken.png" in err, err


def test_nan_loss_stops_with_exit_1(tmp_path, capsys):
    spec = write_spec(tmp_path, "  data: {scale: 1.0}")
    data = write_npz(tmp_path / "d.npz")
    with np.load(data) as found:
        x, y = found["x"].copy(), found["y"]
    x[3, 2, 2] = np.nan  # one bad pixel poisons the epoch's loss
    np.savez(data, x=x, y=y)
    status, err = errors(
        capsys,
        "train",
        str(spec),
        "--backend",
        "torch",
        "--data",
        str(data),
        "-o",
        str(tmp_path / "r"),
    )
    assert status == 1 and "training loss is nan in epoch 1" in err, err


def test_torch_train_writes_the_run_directory(tmp_path, capsys):
    spec = write_spec(tmp_path, "  data: {scale: 1.0}")
    data = write_npz(tmp_path / "d.npz")
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                str(spec),
                "--backend",
                "torch",
                "--data",
                str(data),
                "--epochs",
                "2",
                "-o",
                str(run),
            ]
        )
        == 0
    )
    history = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert {"loss", "val_loss", "lr", "accuracy", "val_accuracy"} <= set(history[0])
    assert (run / "best.pt").is_file() and (run / "last.pt").is_file()
    assert "epoch 2/2" in capsys.readouterr().out


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_build_training_writes_the_script_train_runs(tmp_path, backend):
    spec = write_spec(tmp_path, "  schedule: {cosine: {warmup_epochs: 1}}")
    out = tmp_path / f"train_small_{backend}.py"
    assert main(["build", str(spec), "--backend", backend, "--training", "-o", str(out)]) == 0
    graph = archspec.load(spec)
    expected = training_source(archspec.check(graph), load_recipe(graph).recipe, backend)
    assert out.read_text() == expected
    assert_ruff_clean(out)


GOLDEN = Path(__file__).parent / "golden"
GOLDEN_RECIPE = """
training:
  data: {path: digits.npz, scale: 16.0}
  optimizer: {sgd: {learning_rate: 0.01, momentum: 0.9}}
  schedule: {cosine: {warmup_epochs: 2}}
  callbacks: {early_stopping: {patience: 3, restore_best_weights: true}, model_checkpoint: {}}
  augmentation: [{random_crop: {padding: 2}}]
"""


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_training_script_golden(backend: str) -> None:
    """The generated training script, pinned (``ARCHSPEC_ACCEPT=1`` refreshes it)."""
    import os

    spec = (Path(__file__).parents[1] / "specs" / "lenet5.yaml").read_text(encoding="utf-8")
    graph = archspec.load(spec + GOLDEN_RECIPE)
    source = training_source(archspec.check(graph), load_recipe(graph).recipe, backend)
    golden = GOLDEN / f"train_lenet5_{backend}.py"
    if os.environ.get("ARCHSPEC_ACCEPT"):
        golden.write_text(source, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == source, "ARCHSPEC_ACCEPT=1 refreshes it"


def test_the_script_run_by_hand_reads_its_data_as_train_did(tmp_path):
    """``--set training.data.*`` reaches the generated script: run by hand (or under torchrun)
    it splits and scales the data as ``archspec train`` did, so the histories are equal."""
    spec, data = write_spec(tmp_path), write_npz(tmp_path / "d.npz", n=40, scale=16.0)
    sets = ["--set", "training.data.scale=16", "--set", "training.data.validation=0.25"]
    argv = ["train", str(spec), "--backend", "torch", "--data", str(data), "-o"]
    assert main([*argv, str(tmp_path / "by_train"), *sets]) == 0
    script = tmp_path / "train_small.py"
    assert (
        main(["build", str(spec), "--backend", "torch", "--training", "-o", str(script), *sets])
        == 0
    )
    done = subprocess.run(
        [sys.executable, str(script), str(data), str(tmp_path / "by_hand")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    by_train, by_hand = (
        json.loads((tmp_path / run / "history.json").read_text()) for run in ("by_train", "by_hand")
    )
    assert by_hand == by_train
