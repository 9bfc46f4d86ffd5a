"""Data parallelism without a framework: who this process is, and which samples are its own.

The rules every distributed archspec run follows (PyTorch DDP under torchrun, Keras
MirroredStrategy), stated once here and pinned by ``tests/test_distributed_shards.py``:

- **Order.** The epoch's order is archspec's own seeded permutation, a pure function of
  ``(seed, epoch)`` computed identically on every rank. Sharding takes that order as an
  argument and keeps no state, so there is no ``set_epoch`` to forget: every epoch reshuffles.
- **Global batch.** ``batch_size`` in the recipe is the *global* batch: one optimizer step
  consumes ``batch_size`` samples over all ranks together, exactly as one process would. The
  learning rate is never scaled by the number of ranks (scale it yourself in the recipe if you
  follow the linear-scaling rule). ``batch_size`` must be a multiple of the number of ranks.
- **Shards.** Rank ``r`` of ``W`` gets the ``r``-th of ``W`` contiguous, near-equal slices of
  each global batch (``numpy.array_split``), so the ranks' shards of one epoch are disjoint and
  their union, in rank order, is the epoch's order.
- **Last partial batch.** An epoch whose sample count is not a multiple of ``batch_size`` ends
  with a short batch of ``n`` samples. In a run over ``W`` replicas it is cut to its first
  ``n - n % W`` samples (:func:`usable`), so it still splits evenly: at most ``W - 1`` samples of
  an epoch are left out (other ones every epoch, since the order reshuffles), and each replica's
  plain mean loss still averages to the global batch's mean, in DDP and in MirroredStrategy
  alike. A short batch of fewer than ``W`` samples is dropped (:func:`steps_per_epoch`). When
  ``n`` is a multiple of ``W`` nothing is cut and the run is the one-process run.
- **BatchNorm.** With ``sync_batch_norm: true`` the batch statistics are computed over the
  global batch (the same numbers as one process; tested). Otherwise each replica normalises with
  its own shard's statistics, and the running statistics follow the framework's rule (DDP
  broadcasts rank 0's buffers at every forward, so rank 0's are kept).
- **Validation.** PyTorch ranks each evaluate the whole validation set (same numbers on every
  rank). Under MirroredStrategy the validation batches are split too, so their short last batch
  is cut like the training's (no replica may get an empty batch).
- **Writes.** Only rank 0 (:attr:`World.is_main`) writes history and checkpoints.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

# torchrun sets these in every worker; a process started without them is a world of one.
ENV_RANK, ENV_WORLD_SIZE, ENV_LOCAL_RANK = "RANK", "WORLD_SIZE", "LOCAL_RANK"
# Seconds a rank waits for the others (rendezvous, every collective) before failing loudly.
ENV_TIMEOUT = "ARCHSPEC_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 300


@dataclass(frozen=True)
class World:
    """This process's place in a data-parallel job: ``rank`` of ``size``, and its local rank."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> World:
        """The world torchrun describes in the environment (a world of one outside torchrun)."""
        env = os.environ if environ is None else environ
        world = cls(
            rank=int(env.get(ENV_RANK, "0")),
            size=int(env.get(ENV_WORLD_SIZE, "1")),
            local_rank=int(env.get(ENV_LOCAL_RANK, "0")),
        )
        if not (world.size >= 1 and 0 <= world.rank < world.size and world.local_rank >= 0):
            raise ValueError(f"inconsistent distributed environment: {world}")
        return world

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes history, checkpoints and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def timeout_seconds(environ: Mapping[str, str] | None = None) -> int:
    """The collective/rendezvous timeout in seconds (``ARCHSPEC_DIST_TIMEOUT``, default 300)."""
    env = os.environ if environ is None else environ
    return int(env.get(ENV_TIMEOUT, str(DEFAULT_TIMEOUT_S)))


def check_batch_size(batch_size: int, world_size: int) -> str | None:
    """Why ``batch_size`` cannot be split over ``world_size`` ranks, or None when it can."""
    if batch_size % world_size:
        lower = batch_size - batch_size % world_size
        return (
            f"batch_size {batch_size} is the global batch and must be a multiple of the "
            f"{world_size} ranks (e.g. {lower or world_size} or {lower + world_size})"
        )
    return None


def shard_slice(global_size: int, world: World) -> slice:
    """This rank's contiguous slice of a global batch of ``global_size`` (array_split's rule)."""
    base, extra = divmod(global_size, world.size)
    start = world.rank * base + min(world.rank, extra)
    return slice(start, start + base + (world.rank < extra))


def usable(global_size: int, world_size: int) -> int:
    """How many of a global batch's samples a run over ``world_size`` replicas trains on."""
    return global_size - global_size % world_size


def steps_per_epoch(n_samples: int, batch_size: int, world_size: int = 1) -> int:
    """Optimizer steps in one epoch: full batches, plus the short one if it keeps a sample."""
    full, rest = divmod(n_samples, batch_size)
    return full + (usable(rest, world_size) > 0)


def epoch_shards(order: np.ndarray, batch_size: int, world: World) -> Iterator[np.ndarray]:
    """This rank's sample indices in every global batch of one epoch, in step order.

    ``order`` is the epoch's permutation of sample indices (the same array on every rank).
    """
    order = np.asarray(order)
    for step in range(steps_per_epoch(len(order), batch_size, world.size)):
        batch = order[step * batch_size : (step + 1) * batch_size]
        yield batch[shard_slice(usable(len(batch), world.size), world)]
