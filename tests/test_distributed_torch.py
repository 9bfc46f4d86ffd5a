"""PyTorch DDP over gloo on CPU, launched through torchrun: two processes train as one process
at the same global batch, a killed rank ends the job with its name, a resumed run reaches the
uninterrupted weights, and rendezvous failures are clear and bounded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import distributed_loop  # noqa: E402  (pytest puts tests/ on sys.path)

import archspec  # noqa: E402

HERE = Path(__file__).resolve().parent
LOOP = str(HERE / "distributed_loop.py")
SPECS = {
    "plain": """archspec: 1
name: tiny_plain
input: {shape: [6, 6, 2]}
layers:
  - conv2d: {filters: 4, kernel_size: 3, activation: relu}
  - flatten: {}
  - dense: {units: 3}
""",
    "batch_norm": """archspec: 1
name: tiny_bn
input: {shape: [6, 6, 2]}
layers:
  - conv2d: {filters: 4, kernel_size: 3}
  - batch_norm: {}
  - relu: {}
  - flatten: {}
  - dense: {units: 3}
""",
}
# 44 samples at global batch 8: five full batches and a short one of 4 (even over 2 ranks), so
# 50 steps cross eight epoch boundaries and eight short batches.
STEPS = ["--samples", "44", "--batch-size", "8", "--steps", "50"]


def spec(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(SPECS[name], encoding="utf-8")
    return str(path)


def one_process(out: Path, *runs: str) -> None:
    distributed_loop.main([str(out), *runs, *STEPS])


def torchrun(out: Path, *runs: str, flags=(), launch=("--nproc", "2")):
    command = [sys.executable, "-m", "archspec.backends.torch.launch", *launch]
    command += ["--dist-timeout", "30", LOOP, str(out), *runs, *STEPS, *flags]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def read(out: Path) -> tuple[list[float], dict]:
    losses = json.loads((out / "run.json").read_text())["losses"]
    return losses, torch.load(out / "weights.pt")


def largest_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def test_two_gloo_processes_train_as_one_process(tmp_path):
    """Per-step loss and final weights within 1e-5 over 50 steps, without BatchNorm and with
    synchronised BatchNorm; per-replica BatchNorm (the control) is measurably different."""
    plain, norm = spec(tmp_path, "plain"), spec(tmp_path, "batch_norm")
    runs = (f"plain={plain}", f"sync_bn={norm}:sync", f"replica_bn={norm}")
    one_process(tmp_path / "one", *runs)
    done = torchrun(tmp_path / "two", *runs)
    assert done.returncode == 0, done.stderr[-3000:]
    for name, path in [("plain", plain), ("sync_bn", norm)]:
        losses, weights = read(tmp_path / "one" / name)
        losses2, weights2 = read(tmp_path / "two" / name)
        assert len(losses) == len(losses2) == 50
        assert max(abs(a - b) for a, b in zip(losses, losses2, strict=True)) < 1e-5, name
        assert largest_difference(weights, weights2) < 1e-5, name
        # rank 0's checkpoint is the plain generated module's state dict: no `module.` prefix
        assert not any(key.startswith("module.") for key in weights2)
        model = archspec.build(archspec.load(Path(path)), backend="torch")
        model.load_state_dict(weights2, strict=True)
    losses, _ = read(tmp_path / "one" / "replica_bn")
    losses2, _ = read(tmp_path / "two" / "replica_bn")
    assert max(abs(a - b) for a, b in zip(losses, losses2, strict=True)) > 1e-3


@pytest.mark.slow
def test_killed_rank_ends_the_job_then_resume_reaches_the_same_weights(tmp_path):
    run = f"plain={spec(tmp_path, 'plain')}"
    one_process(tmp_path / "one", run)
    _, reference = read(tmp_path / "one" / "plain")
    start = time.monotonic()
    flags = ("--checkpoint-every", "5", "--kill-rank", "1", "--kill-step", "23")
    killed = torchrun(tmp_path / "run", run, flags=flags)
    assert time.monotonic() - start < 60
    assert killed.returncode != 0
    assert "archspec: error: distributed run failed: rank 1" in killed.stderr
    assert "SIGKILL" in killed.stderr
    run_dir = tmp_path / "run" / "plain"
    assert torch.load(run_dir / "last.pt")["step"] == 20 and not (run_dir / "weights.pt").exists()
    resumed = torchrun(tmp_path / "run", run, flags=("--checkpoint-every", "5", "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    _, weights = read(run_dir)
    assert largest_difference(reference, weights) < 1e-5


def test_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        start = time.monotonic()
        done = torchrun(tmp_path, "x=x.yaml", launch=("--nproc", "2", "--master-port", str(port)))
    assert time.monotonic() - start < 30
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr


def test_unreachable_master_is_a_clear_error_within_the_timeout(tmp_path):
    from archspec.backends.torch.launch import free_port

    port = free_port()  # nobody listens there
    launch = ("--nproc", "1", "--nnodes", "2", "--node-rank", "1", "--master-port", str(port))
    start = time.monotonic()
    command = [sys.executable, "-m", "archspec.backends.torch.launch", *launch]
    command += ["--dist-timeout", "2", LOOP, str(tmp_path), "x=x.yaml"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert done.returncode == 1
    assert f"node 1 could not reach the master at 127.0.0.1:{port} within 2 s" in done.stderr
    assert elapsed < 20, elapsed
