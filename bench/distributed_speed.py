"""Data-parallel training throughput: N DDP processes (torchrun) against one process.

    python -m bench.distributed_speed            # CPU health figure: 2 gloo processes vs 1
    python -m bench.distributed_speed --quick    # fewer steps
    python -m bench.distributed_speed --gpu      # scaling on 1 and all GPUs (nccl), alexnet

What is timed: training steps (forward, backward, DDP all-reduce, SGD update) of the generated
PyTorch module on synthetic batches already on the device, after warm-up steps, wall time on
rank 0 between two barriers. Throughput is samples per second over all ranks.

- CPU (gloo): the same *global* batch split over 2 processes, as ``archspec train --nproc 2``
  runs it. torchrun gives each worker one thread (OMP_NUM_THREADS=1), so the one-process
  baseline gets one thread too: the ideal ratio is then 2.0 on two idle cores. (A baseline
  with PyTorch's default of one thread per core collapses on a loaded shared machine, which
  would flatter DDP.) Rounds alternate 1, 2, 1, 2, ... and the median of the per-round ratios
  is reported. On a shared 2-core CPU this is a health figure (does DDP work without a
  pathological cost?), not a speed-up promise.
- GPU (nccl): weak scaling, the usual convention for scaling efficiency: a fixed batch per GPU
  (``--per-device-batch``, default 128), efficiency = throughput(N) / (N * throughput(1)).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(args: argparse.Namespace) -> None:
    """One rank: build, wrap in DDP, time ``args.steps`` steps, rank 0 writes the figure."""
    import torch
    import torch.nn.functional as F

    import archspec
    from archspec.backends.torch import distributed as ddp
    from archspec.training.distributed import World

    world = World.from_env()
    device = ddp.setup(world)
    torch.manual_seed(0)
    graph = archspec.load(Path(args.spec))
    report = archspec.check(graph)
    height, width, channels = report.layers[0].output_shape
    classes = report.output_shape[-1]
    model = archspec.build(graph, backend="torch").to(device)
    net = ddp.wrap(model, world)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    local = args.local_batch
    x = torch.randn(local, channels, height, width, device=device)
    y = torch.randint(0, classes, (local,), device=device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y) + model.regularization_loss()
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    sync(device)
    ddp.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync(device)
    ddp.barrier()
    seconds = time.perf_counter() - start
    if world.is_main:
        samples = args.steps * local * world.size
        figure = {"world": world.size, "seconds": seconds, "samples_per_s": samples / seconds}
        Path(args.result).write_text(json.dumps(figure))
    ddp.teardown()


def sync(device: object) -> None:
    import torch

    if getattr(device, "type", "cpu") == "cuda":
        torch.cuda.synchronize()


def measure(nproc: int, spec: str, local_batch: int, steps: int, warmup: int) -> dict:
    """Throughput of ``nproc`` ranks (torchrun through archspec's launcher; 1 = no DDP)."""
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        entry = [__file__, "--worker", "--spec", spec, "--local-batch", str(local_batch)]
        entry += ["--steps", str(steps), "--warmup", str(warmup), "--result", str(result)]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}  # what torchrun gives each worker
        if nproc == 1:
            command = [sys.executable, *entry]
        else:
            command = [sys.executable, "-m", "archspec.backends.torch.launch"]
            command += ["--nproc", str(nproc), *entry]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
        if done.returncode:
            raise SystemExit(f"{nproc} process(es) failed:\n{done.stderr[-2000:]}")
        return json.loads(result.read_text())


def cpu_health(args: argparse.Namespace) -> None:
    batch = args.global_batch
    ones, twos, ratios = [], [], []
    for _ in range(args.rounds):
        ones.append(measure(1, args.spec, batch, args.steps, args.warmup)["samples_per_s"])
        twos.append(measure(2, args.spec, batch // 2, args.steps, args.warmup)["samples_per_s"])
        ratios.append(twos[-1] / ones[-1])
    ratio = statistics.median(ratios)
    print(f"{args.spec}, global batch {batch}, {args.steps} timed steps, CPU gloo, 1 thread each")
    print(f"  1 process : {statistics.median(ones):8.1f} samples/s (median of {args.rounds})")
    print(f"  2 process : {statistics.median(twos):8.1f} samples/s")
    print(f"  ratio 2/1 : {ratio:.2f}x median per round ({', '.join(f'{r:.2f}' for r in ratios)});")
    print(f"              ideal 2.00x on two idle cores: efficiency {ratio / 2:.0%}")


def gpu_scaling(args: argparse.Namespace) -> None:
    import torch

    gpus = torch.cuda.device_count()
    if not gpus:
        raise SystemExit("--gpu: no CUDA device here")
    batch = args.per_device_batch
    one = measure(1, args.spec, batch, args.steps, args.warmup)
    print(f"{args.spec}, {batch} images per GPU, {args.steps} timed steps, nccl")
    print(f"  1 GPU  : {one['samples_per_s']:9.1f} images/s")
    if gpus > 1:
        all_ = measure(gpus, args.spec, batch, args.steps, args.warmup)
        efficiency = all_["samples_per_s"] / (gpus * one["samples_per_s"])
        print(f"  {gpus} GPUs : {all_['samples_per_s']:9.1f} images/s, efficiency {efficiency:.0%}")
    else:
        print("  only one GPU: no scaling figure")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="scaling on 1 and all GPUs")
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--spec", help="default: lenet5 on CPU, alexnet on GPU")
    parser.add_argument("--global-batch", type=int, default=64, help="CPU run (default 64)")
    parser.add_argument("--per-device-batch", type=int, default=128, help="GPU run")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, help="CPU: alternating rounds (default 5, 3 quick)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--local-batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return
    default_spec = "specs/alexnet.yaml" if args.gpu else "specs/lenet5.yaml"
    args.spec = str(ROOT / (args.spec or default_spec)) if not args.spec else args.spec
    args.steps = args.steps or (10 if args.quick else 50)
    args.rounds = args.rounds or (3 if args.quick else 5)
    (gpu_scaling if args.gpu else cpu_health)(args)


if __name__ == "__main__":
    main()
