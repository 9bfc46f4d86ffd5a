"""A minimal data-parallel PyTorch loop over archspec's shards, for the distributed tests.

Run it as one process (``python tests/distributed_loop.py OUT NAME=SPEC[:sync] ...``) or under
torchrun: it reads its world from the environment, shards archspec's seeded order, wraps the
generated module in DDP (``:sync``: synchronised BatchNorm) and lets rank 0 write
``OUT/NAME/run.json`` (per-step global loss) and ``OUT/NAME/weights.pt`` (a plain state dict). ``--kill-rank R --kill-step S`` makes rank R kill itself at step S (fault
tests); ``--resume`` continues from ``OUT/NAME/last.pt``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import archspec
from archspec.backends.torch import distributed as ddp
from archspec.training.distributed import World, epoch_shards, steps_per_epoch


def data(spec_shape: tuple[int, ...], n: int, n_classes: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *spec_shape)).astype(np.float32)
    y = rng.integers(0, n_classes, n)
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("runs", nargs="+", help="NAME=SPEC or NAME=SPEC:sync (sync BatchNorm)")
    parser.add_argument("--samples", type=int, default=44)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kill-rank", type=int, default=-1)
    parser.add_argument("--kill-step", type=int, default=-1)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--checkpoint-every", type=int, default=0)
    args = parser.parse_args(argv)
    world = World.from_env()
    device = ddp.setup(world)
    for run in args.runs:
        name, _, spec = run.partition("=")
        spec, _, sync = spec.partition(":")
        out = Path(args.out) / name
        out.mkdir(parents=True, exist_ok=True)
        train(args, out, Path(spec), sync == "sync", world, device)
    ddp.teardown()


def train(args, out: Path, spec: Path, sync: bool, world: World, device) -> None:
    torch.manual_seed(args.seed)
    graph = archspec.load(spec)
    model = archspec.build(graph, backend="torch").to(device)
    shape = tuple(archspec.check(graph).layers[0].output_shape)
    x, y = data(shape, args.samples, 3, args.seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step, losses = 0, []
    if args.resume and (out / "last.pt").exists():
        state = torch.load(out / "last.pt")
        model.load_state_dict(state["model"])  # plain keys: the unwrapped module loads them
        optimizer.load_state_dict(state["optimizer"])
        step, losses = state["step"], state["losses"]
    net = ddp.wrap(model, world, sync_batch_norm=sync)
    per_epoch = steps_per_epoch(args.samples, args.batch_size, world.size)
    while step < args.steps:
        epoch, within = divmod(step, per_epoch)
        order = np.random.default_rng([args.seed, epoch]).permutation(args.samples)
        for shard in list(epoch_shards(order, args.batch_size, world))[within:]:
            if step >= args.steps:
                break
            if world.rank == args.kill_rank and step == args.kill_step:
                os.kill(os.getpid(), signal.SIGKILL)
            index = torch.from_numpy(shard)
            logits = net(x[index].to(device))
            data_loss = F.cross_entropy(logits, y[index].to(device))  # the plain local mean
            loss = data_loss + model.regularization_loss()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            (mean_sum,) = ddp.all_sum([data_loss.item()])  # equal shares: mean of the means
            losses.append(mean_sum / world.size + float(model.regularization_loss()))
            step += 1
            if world.is_main and args.checkpoint_every and step % args.checkpoint_every == 0:
                state = {"model": ddp.unwrap(net).state_dict(), "step": step, "losses": losses}
                torch.save({**state, "optimizer": optimizer.state_dict()}, out / "last.pt")
    if world.is_main:
        torch.save(ddp.unwrap(net).state_dict(), out / "weights.pt")
        (out / "run.json").write_text(json.dumps({"losses": losses, "world": world.size}))


if __name__ == "__main__":
    main()
