"""Keras MirroredStrategy over two logical CPU devices trains as one device at the same global
batch; several hosts are refused with a pointer to the PyTorch backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archspec.backends import BackendError

pytest.importorskip("tensorflow")

HERE = Path(__file__).resolve().parent
PLAIN = """archspec: 1
name: tiny_plain
input: {shape: [6, 6, 2]}
layers:
  - conv2d: {filters: 4, kernel_size: 3, activation: relu}
  - flatten: {}
  - dense: {units: 3}
"""
NORM = PLAIN.replace("tiny_plain", "tiny_bn").replace(
    "  - conv2d: {filters: 4, kernel_size: 3, activation: relu}\n",
    "  - conv2d: {filters: 4, kernel_size: 3}\n  - batch_norm: {}\n  - relu: {}\n",
)


def test_mirrored_strategy_on_two_cpu_devices_trains_as_one_device(tmp_path):
    (tmp_path / "plain.yaml").write_text(PLAIN)
    (tmp_path / "bn.yaml").write_text(NORM)
    out = tmp_path / "out.json"
    runs = ["plain=plain.yaml", "sync_bn=bn.yaml:sync", "replica_bn=bn.yaml"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(HERE.parent)}
    script = str(HERE / "distributed_keras_run.py")
    done = subprocess.run(
        [sys.executable, script, str(out), *runs],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    for name in ("plain", "sync_bn"):
        result = results[name]
        assert result["replicas"] == 2
        assert len(result["one"]) == len(result["two"]) == 50
        assert max(abs(a - b) for a, b in zip(result["one"], result["two"], strict=True)) < 1e-5
        assert result["weights"] < 1e-5, name
    # the control: per-replica statistics are not the global batch's
    control = results["replica_bn"]
    assert max(abs(a - b) for a, b in zip(control["one"], control["two"], strict=True)) > 1e-3


def test_keras_over_several_hosts_is_refused_clearly():
    from archspec.backends.keras.distributed import refuse_multi_host

    refuse_multi_host(1)
    with pytest.raises(BackendError) as err:
        refuse_multi_host(2)
    message = str(err.value)
    assert "keras-team/keras#20585" in message
    assert "--backend torch" in message and "transfer_weights" in message
