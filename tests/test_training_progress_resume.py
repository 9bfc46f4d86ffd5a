"""The live progress line (same format in Keras and PyTorch), resuming a run with early
stopping's best weights, the refusal to resume another recipe or spec, and the recipe reference
(``archspec ops training``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.cli import main
from archspec.training import run as training_run
from archspec.training.recipe import AUGMENTATIONS, CALLBACKS, OPTIMIZERS, SCHEDULES
from archspec.training.runtime import STATE, ResumeMismatch, RunLog

SPEC = """archspec: 1
name: small
params: {{input_shape: [8, 8, 1], n_classes: 3}}
input: {{shape: $input_shape}}
layers:
  - flatten: {{}}
  - dense: {{units: $n_classes, activation: softmax{dense}}}
training:
  batch_size: 8
  data: {{scale: 1.0}}
  optimizer: {{adam: {{learning_rate: 0.05}}}}
{training}
"""
# Each live line: the epoch, a 20-character bar, step/steps, running means, the learning rate.
LIVE = re.compile(
    r"epoch (\d+)/(\d+) \[[=>.]{20}\] (\d+)/(\d+) - loss: (\d+\.\d{4}) - "
    r"accuracy: (\d\.\d{4}) - lr: (\d\.\d\de[-+]\d\d)\x1b\[K"
)


def write_spec(tmp_path: Path, training: str = "", dense: str = "") -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SPEC.format(training=training, dense=dense), encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> str:
    rng = np.random.default_rng(0)
    x = rng.random((30, 8, 8)).astype(np.float32)
    y = np.arange(30) % 3
    x[np.arange(30), y, y] += 2.0  # learnable: the label's pixel is bright
    np.savez(tmp_path / "d.npz", x=x, y=y)
    return str(tmp_path / "d.npz")


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_live_progress_line_on_a_terminal_plain_lines_otherwise(
    tmp_path, data, capsys, monkeypatch, backend
):
    """On a terminal (ARCHSPEC_PROGRESS=live here) the line is redrawn in place during the
    epoch and its last drawing holds the epoch's own loss and learning rate; captured output
    (not a terminal) gets one plain line per epoch and no carriage return."""
    report = archspec.check(archspec.load(write_spec(tmp_path)))
    monkeypatch.setenv("ARCHSPEC_PROGRESS", "live")
    history = training_run.train(report, backend, data, tmp_path / "live", epochs=2)
    out = capsys.readouterr().out
    drawn = [LIVE.fullmatch(part.rstrip("\n")) for part in out.split("\r") if part.strip()]
    live = [m for m in drawn if m]
    assert live, out
    for epoch in (1, 2):  # the last step of every epoch is always drawn
        last = [m for m in live if m[1] == str(epoch) and m[3] == m[4]]
        assert last, out
        assert float(last[-1][5]) == pytest.approx(history[epoch - 1]["loss"], abs=2e-4)
        assert float(last[-1][7]) == pytest.approx(history[epoch - 1]["lr"], rel=1e-2)
    assert "\x1b[K\nepoch 1/2 - " not in out  # the epoch's line replaces the live one
    assert re.search(r"\r\x1b\[Kepoch 2/2 - [\d.]+s - loss: ", out), out
    monkeypatch.setenv("ARCHSPEC_PROGRESS", "auto")  # pytest's capture is no terminal
    training_run.train(report, backend, data, tmp_path / "plain", epochs=2)
    plain = capsys.readouterr().out
    assert "\r" not in plain and len(plain.splitlines()) == 2, plain


def final_model(monkeypatch, run) -> list:
    """Run ``run()`` and return the trained model's final weights (as numpy arrays)."""
    made = []
    build = training_run.initial_model
    monkeypatch.setattr(
        training_run, "initial_model", lambda *a: made.append(build(*a)) or made[-1]
    )
    run()
    model = made[-1]
    if hasattr(model, "state_dict"):
        return [v.detach().numpy().copy() for v in model.state_dict().values()]
    return [np.array(w) for w in model.get_weights()]


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_resume_restores_early_stopping_best_weights(tmp_path, data, monkeypatch, backend):
    """restore_best_weights with the best epoch before the interruption: the resumed run ends
    with that epoch's weights, as the uninterrupted run does (not the resumed epochs' ones)."""
    recipe = (
        "  callbacks: {early_stopping: {monitor: loss, mode: max, patience: 9, "
        "restore_best_weights: true}}"
    )
    report = archspec.check(archspec.load(write_spec(tmp_path, recipe)))
    options = {"progress": None}
    whole = final_model(
        monkeypatch,
        lambda: training_run.train(report, backend, data, tmp_path / "w", epochs=3, **options),
    )
    training_run.train(report, backend, data, tmp_path / "cut", epochs=2, **options)
    resumed = final_model(
        monkeypatch,
        lambda: training_run.train(
            report, backend, data, tmp_path / "cut", epochs=3, resume=True, **options
        ),
    )
    for a, b in zip(whole, resumed, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    # The best (highest) loss is the first epoch's, so the end is not the last epoch's weights.
    history = json.loads((tmp_path / "w" / "history.json").read_text())
    assert history[0]["loss"] > history[-1]["loss"]


def test_resume_refuses_another_recipe_or_spec(tmp_path, data, capsys):
    spec = write_spec(tmp_path)
    common = ["--backend", "torch", "--data", data]
    assert main(["train", str(spec), *common, "--epochs", "1", "-o", str(tmp_path / "r")]) == 0
    saved = json.loads((tmp_path / "r" / STATE).read_text())
    assert saved["fingerprint"]["recipe.optimizer.adam.learning_rate"] == 0.05
    capsys.readouterr()
    lr = "training.optimizer.adam.learning_rate=0.01"
    status = main(["train", str(spec), *common, "--set", lr, "--resume", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert status == 2 and "recipe.optimizer.adam.learning_rate (0.05 -> 0.01)" in err, err
    assert "Traceback" not in err
    write_spec(tmp_path, dense=", use_bias: false")  # the same recipe, another architecture
    status = main(["train", str(spec), *common, "--resume", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert status == 2 and "spec.dense" in err and "recipe." not in err, err
    write_spec(tmp_path)  # back as it was: more epochs continue the run
    status = main(["train", str(spec), *common, "--epochs", "2", "--resume", str(tmp_path / "r")])
    assert status == 0
    assert [h["epoch"] for h in json.loads((tmp_path / "r" / "history.json").read_text())] == [
        1,
        2,
    ]


def test_a_generated_script_refuses_too(tmp_path):
    """The check is in the scripts' RunLog as well (standalone and torchrun runs)."""
    (tmp_path / STATE).write_text(json.dumps({"epoch": 1, "fingerprint": {"recipe.seed": 0}}))
    with pytest.raises(ResumeMismatch, match=r"recipe\.seed \(0 -> 1\)"):
        RunLog(tmp_path, 2, initial_epoch=1, fingerprint={"recipe.seed": 1})
    RunLog(tmp_path, 2, initial_epoch=1, fingerprint={"recipe.seed": 0})  # the same: accepted


def test_recipe_reference_lists_every_entry(capsys):
    assert main(["ops", "training"]) == 0
    listing = capsys.readouterr().out
    sections = {
        "optimizer:": OPTIMIZERS,
        "schedule:": SCHEDULES,
        "callbacks:": CALLBACKS,
        "augmentation:": AUGMENTATIONS,
    }
    for header, table in sections.items():
        block = listing.split("\n" + header + "\n", 1)[1].split("\n\n", 1)[0]
        for kind, entry in table.items():
            assert f"  {kind} - " in block, kind
            for field in entry.model_fields:
                assert re.search(rf"^ {{6}}{field} ", block, re.M), (kind, field)
    assert "  categorical_crossentropy - " in listing and "  top_k - " in listing
    assert main(["ops", "optimizer.rmsprop"]) == 0
    entry = capsys.readouterr().out
    assert "epsilon inside" in entry and "Added to the mean square" in entry
    assert "training: {optimizer: {rmsprop: {...}}}" in entry
    assert main(["ops", "schedule.cosin"]) == 2
    assert "did you mean 'schedule.cosine'?" in capsys.readouterr().err


def test_torchrun_resume_is_refused_before_launching(tmp_path, data, capsys):
    """``--nproc 2 --resume``: the same check, before any process starts."""
    spec = write_spec(tmp_path)
    run = tmp_path / "r"
    run.mkdir()
    (run / STATE).write_text(json.dumps({"epoch": 1, "fingerprint": {"recipe.seed": 7}}))
    argv = ["train", str(spec), "--backend", "torch", "--nproc", "2", "--data", data]
    assert main([*argv, "--resume", str(run)]) == 2
    assert "recipe.seed (7 -> 0)" in capsys.readouterr().err
