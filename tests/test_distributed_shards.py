"""The data-parallel rules without a framework: shards, the last batch, the world, the launcher's
arguments and its failure messages."""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np
import pytest

from archspec.training.distributed import (
    World,
    check_batch_size,
    epoch_shards,
    shard_slice,
    steps_per_epoch,
    timeout_seconds,
    usable,
)


def order(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


@pytest.mark.parametrize("n, batch, world_size", [(44, 8, 2), (45, 8, 2), (41, 8, 4), (7, 6, 3)])
def test_shards_are_disjoint_and_cover_the_usable_order(n, batch, world_size):
    perm = order(n, 0, 0)
    per_rank = [list(epoch_shards(perm, batch, World(r, world_size))) for r in range(world_size)]
    steps = steps_per_epoch(n, batch, world_size)
    assert all(len(shards) == steps for shards in per_rank)
    served = []
    for step in range(steps):
        parts = [per_rank[r][step] for r in range(world_size)]
        assert len({len(p) for p in parts}) == 1  # equal shares: plain means average exactly
        served.extend(np.concatenate(parts).tolist())
    assert len(set(served)) == len(served)  # disjoint
    global_batches = [perm[i : i + batch] for i in range(0, n, batch)][:steps]
    expected = np.concatenate([b[: usable(len(b), world_size)] for b in global_batches])
    assert served == expected.tolist()  # rank order rebuilds the one-process order


def test_last_partial_batch_is_cut_to_a_multiple_of_the_ranks():
    assert steps_per_epoch(44, 8, 1) == 6  # one process keeps the short batch of 4
    assert steps_per_epoch(44, 8, 4) == 6  # 4 % 4 == 0: kept whole
    assert steps_per_epoch(44, 8, 3) == 6  # cut to 3
    assert steps_per_epoch(41, 8, 2) == 5  # 1 sample < 2 ranks: dropped
    last = [list(epoch_shards(order(44, 0, 0), 8, World(r, 3)))[-1] for r in range(3)]
    assert [len(s) for s in last] == [1, 1, 1]


def test_every_epoch_reshuffles_without_any_set_epoch():
    world = World(1, 2)
    first = np.concatenate(list(epoch_shards(order(64, 3, 0), 8, world)))
    second = np.concatenate(list(epoch_shards(order(64, 3, 1), 8, world)))
    again = np.concatenate(list(epoch_shards(order(64, 3, 1), 8, world)))
    assert first.tolist() != second.tolist()
    assert second.tolist() == again.tolist()  # a pure function of (seed, epoch)


def test_shard_slice_is_array_split():
    for size in range(0, 12):
        for world_size in (1, 2, 3, 5):
            parts = np.array_split(np.arange(size), world_size)
            for rank in range(world_size):
                got = np.arange(size)[shard_slice(size, World(rank, world_size))]
                assert got.tolist() == parts[rank].tolist()


def test_global_batch_must_split_over_the_ranks():
    assert check_batch_size(32, 4) is None
    message = check_batch_size(30, 4)
    assert message and "multiple of the 4 ranks" in message and "28 or 32" in message


def test_world_from_torchrun_environment():
    assert World.from_env({}) == World(0, 1, 0)
    world = World.from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (world.rank, world.size, world.local_rank, world.is_main) == (3, 4, 1, False)
    assert World.from_env({"RANK": "0", "WORLD_SIZE": "2"}).is_main
    with pytest.raises(ValueError, match="inconsistent"):
        World.from_env({"RANK": "2", "WORLD_SIZE": "2"})
    assert timeout_seconds({"ARCHSPEC_DIST_TIMEOUT": "7"}) == 7


def test_launch_arguments_pass_through_to_torchrun():
    from archspec.backends.torch import launch

    parser = argparse.ArgumentParser()
    launch.add_arguments(parser)
    args = parser.parse_args(
        [
            "--nproc",
            "4",
            "--nnodes",
            "2",
            "--node-rank",
            "1",
            "--master-addr",
            "10.0.0.1",
            "--master-port",
            "29400",
        ]
    )
    settings = launch.from_args(args)
    argv = launch.torchrun_argv(settings, ["train.py", "--epochs", "3"], settings.port())
    for flag in (
        "--nproc-per-node=4",
        "--nnodes=2",
        "--node-rank=1",
        "--master-addr=10.0.0.1",
        "--master-port=29400",
        "--max-restarts=0",
        "--rdzv-conf=timeout=300",
    ):
        assert flag in argv
    assert argv[-3:] == ["train.py", "--epochs", "3"]
    assert launch.Launch(nnodes=2).port() == 29500  # torchrun's default over hosts
    bad = launch.Launch(nproc=0, nnodes=2, node_rank=2, master_port=70000, timeout_s=0)
    assert len(bad.problems()) == 4


def test_rendezvous_failures_read_as_this_job():
    from archspec.backends.torch.launch import Launch, describe_rendezvous_failure

    job = Launch(nnodes=2, node_rank=1, master_port=29511, timeout_s=9)
    busy = describe_rendezvous_failure("code: -98, name: EADDRINUSE", job, 29511)
    assert "port 29511 on 127.0.0.1 is already in use" in busy
    lost = describe_rendezvous_failure(
        "The client socket has timed out after 9000ms while trying to connect to (x, 1).",
        job,
        29511,
    )
    assert "node 1 could not reach the master at 127.0.0.1:29511 within 9 s" in lost
    alone = describe_rendezvous_failure(
        "Timed out ... waiting for clients. 1/2 clients joined.", job, 1
    )
    assert "1/2 clients joined" in alone


def test_rules_import_no_framework():
    code = (
        "import sys, archspec.training.distributed, archspec.backends.torch.launch, "
        "archspec.backends.torch.distributed; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
