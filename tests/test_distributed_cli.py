"""``archspec train`` past one process: ``--nproc 2`` runs the generated script unchanged under
torchrun and trains as one process; ``--devices 2`` (Keras) trains as one device; what cannot be
split is refused before anything starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from archspec.cli import main

# 50 samples: 40 to train (five batches of 8), 10 to validate (8 + 2: even over two replicas),
# so the two-replica runs cut nothing and must equal the one-replica runs.
SPEC = """archspec: 1
name: tiny_train
input: {shape: [6, 6, 2]}
layers:
  - conv2d: {filters: 4, kernel_size: 3}
  - batch_norm: {}
  - relu: {}
  - flatten: {}
  - dense: {units: 3, activation: softmax}
training:
  data: {path: tiny.npz, validation: 0.2, scale: 1.0}
  batch_size: 8
  epochs: 2
  seed: 0
  sync_batch_norm: true
  optimizer: {sgd: {learning_rate: 0.05, momentum: 0.9}}
"""


@pytest.fixture
def run_here(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.random((50, 6, 6, 2)).astype("float32")
    np.savez(tmp_path / "tiny.npz", x=x, y=rng.integers(0, 3, 50))
    (tmp_path / "tiny.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def archspec(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "archspec", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


def same_history(a: Path, b: Path, keys: tuple[str, ...]) -> float:
    first = json.loads((a / "history.json").read_text())
    second = json.loads((b / "history.json").read_text())
    assert len(first) == len(second)
    return max(abs(x[k] - y[k]) for x, y in zip(first, second, strict=True) for k in keys)


def test_torch_nproc_two_trains_as_one_process(run_here):
    torch = pytest.importorskip("torch")
    assert main(["train", "tiny.yaml", "--backend", "torch", "-o", "one"]) == 0
    done = archspec("train", "tiny.yaml", "--backend", "torch", "--nproc", "2", "-o", "two")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (run_here / "two" / "train_tiny_train.py").is_file()  # the script torchrun ran
    assert done.stdout.count("epoch 2/2") == 1  # only rank 0 reports
    keys = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
    assert same_history(run_here / "one", run_here / "two", keys) < 1e-5
    one, two = (torch.load(run_here / d / "last.pt") for d in ("one", "two"))
    assert one.keys() == two.keys()  # rank 0 saved the plain module: no `module.` prefix
    assert max(float((one[k].double() - two[k].double()).abs().max()) for k in one) < 1e-5


@pytest.mark.slow
def test_keras_devices_two_trains_as_one_device(run_here):
    pytest.importorskip("tensorflow")
    for name, extra in (("one", ()), ("two", ("--devices", "2"))):
        done = archspec("train", "tiny.yaml", "--backend", "keras", *extra, "-o", name)
        assert done.returncode == 0, done.stderr[-3000:]
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    assert same_history(run_here / "one", run_here / "two", keys) < 1e-5


def test_keras_over_hosts_and_mixed_options_are_refused(run_here, capsys):
    assert main(["train", "tiny.yaml", "--backend", "keras", "--nnodes", "2", "-o", "r"]) == 2
    assert "keras-team/keras#20585" in capsys.readouterr().err
    assert main(["train", "tiny.yaml", "--backend", "keras", "--nproc", "2", "-o", "r"]) == 2
    assert "--devices N" in capsys.readouterr().err
    assert main(["train", "tiny.yaml", "--backend", "torch", "--devices", "2", "-o", "r"]) == 2
    assert "--nproc N" in capsys.readouterr().err


def test_global_batch_that_does_not_split_is_a_located_error(run_here, capsys):
    assert main(["train", "tiny.yaml", "--backend", "torch", "--nproc", "3", "-o", "r"]) == 2
    err = capsys.readouterr().err
    assert "tiny.yaml:12:15: error: training.batch_size" in err
    assert "multiple of the 3 ranks" in err
    assert not (run_here / "r").exists()


@pytest.mark.slow
def test_torch_nproc_two_resumes_to_the_uninterrupted_run(run_here):
    torch = pytest.importorskip("torch")
    assert main(["train", "tiny.yaml", "--backend", "torch", "-o", "one"]) == 0
    first = archspec(
        "train", "tiny.yaml", "--backend", "torch", "--nproc", "2", "--epochs", "1", "-o", "r"
    )
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = archspec("train", "tiny.yaml", "--backend", "torch", "--nproc", "2", "--resume", "r")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "epoch 2/2" in resumed.stdout and "epoch 1/2" not in resumed.stdout
    assert same_history(run_here / "one", run_here / "r", ("loss", "val_loss")) < 1e-5
    one, two = (torch.load(run_here / d / "last.pt") for d in ("one", "r"))
    assert max(float((one[k].double() - two[k].double()).abs().max()) for k in one) < 1e-5
