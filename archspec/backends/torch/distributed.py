"""PyTorch data parallelism for archspec runs: process group, DDP wrapping, rank-0 checkpoints.

The job is launched by torchrun (``archspec train --nproc N`` or ``torchrun`` by hand), which
sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``; the rules (global batch, shards, last batch,
BatchNorm) are in :mod:`archspec.training.distributed`. torch is imported inside functions only.
"""

from __future__ import annotations

import datetime
from typing import Any

from archspec.training.distributed import World, timeout_seconds


def setup(world: World, timeout_s: int | None = None) -> Any:
    """Join the job's process group and return this rank's device.

    gloo on CPU; with a GPU per process (``cuda:LOCAL_RANK``), nccl for CUDA tensors. Every
    collective is bounded by ``timeout_s`` (``ARCHSPEC_DIST_TIMEOUT``, default 300 s), so a
    lost peer ends the run with an error instead of a hang. A world of one joins nothing.
    """
    import torch
    import torch.distributed as dist

    cuda = torch.cuda.is_available() and world.local_rank < torch.cuda.device_count()
    device = torch.device(f"cuda:{world.local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world.distributed and not dist.is_initialized():
        dist.init_process_group(
            # CPU tensors over gloo, CUDA tensors over nccl: a loop that keeps its model on
            # the CPU still runs on a GPU machine
            backend="cpu:gloo,cuda:nccl" if cuda else "gloo",
            timeout=datetime.timedelta(seconds=timeout_s or timeout_seconds()),
            device_id=device if cuda else None,
        )
    return device


def teardown() -> None:
    """Leave the process group (a clean exit; torchrun reports a rank that never gets here)."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: Any, world: World, sync_batch_norm: bool = False) -> Any:
    """``model`` ready for data-parallel steps: synchronised BatchNorm if asked, then DDP.

    DDP broadcasts rank 0's parameters and buffers at construction, so every rank starts from
    rank 0's weights, and averages gradients over ranks at each step. In a world of one the
    model comes back unchanged.
    """
    import torch
    from torch.nn.parallel import DistributedDataParallel

    if not world.distributed:
        return model
    if sync_batch_norm:
        model = convert_sync_batch_norm(model)
    cuda = next(model.parameters()).device.type == "cuda"
    return DistributedDataParallel(
        model, device_ids=[torch.cuda.current_device()] if cuda else None
    )


def unwrap(model: Any) -> Any:
    """The plain generated module inside a DDP wrapper (its state_dict has no ``module.``)."""
    return getattr(model, "module", model)


def convert_sync_batch_norm(model: Any) -> Any:
    """Every BatchNorm of ``model`` computes its statistics over the whole global batch.

    Each BatchNorm's class becomes :func:`sync_batch_norm_class`'s subclass in place: same
    parameters, buffers and state_dict keys, so checkpoints load into the plain module.
    NOTE: not ``torch.nn.SyncBatchNorm``: it refuses CPU tensors (so gloo), and this one also
    leaves the global batch's biased variance in ``module.batch_var`` for Keras's
    moving-variance rule. It is plain all-reduces, so nccl on GPU works the same way.
    """
    import torch

    sync_class = sync_batch_norm_class()
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.__class__ = sync_class
    return model


_SYNC_CLASS: Any = None


def sync_batch_norm_class() -> Any:
    """A BatchNorm whose training statistics are all-reduced over the world (any device).

    Two differentiable all-reduces per layer: the sum (for the mean), then the sum of squared
    deviations (for the biased variance, two-pass like PyTorch's own kernel, so one process
    and W processes agree to rounding). The running variance uses the unbiased global variance,
    as ``nn.BatchNorm`` does. Gradients flow back through the all-reduces, which makes DDP's
    gradient average the one-process gradient.
    """
    global _SYNC_CLASS
    if _SYNC_CLASS is not None:
        return _SYNC_CLASS
    import torch
    import torch.distributed as dist

    class AllReduceSum(torch.autograd.Function):
        """A sum over ranks whose gradient is the sum of the ranks' gradients."""

        @staticmethod
        def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
            tensor = tensor.clone()
            dist.all_reduce(tensor)
            return tensor

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
            return AllReduceSum.apply(grad)

    all_reduce = AllReduceSum.apply

    class SyncBatchNorm(torch.nn.modules.batchnorm._BatchNorm):
        def _check_input_dim(self, x: torch.Tensor) -> None:
            if x.dim() < 2:
                raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            sync = self.training and dist.is_initialized() and dist.get_world_size() > 1
            if not sync:
                return super().forward(x)
            dims = [0, *range(2, x.dim())]
            shape = [1, -1] + [1] * (x.dim() - 2)
            count = torch.full((1,), x.numel() // x.shape[1], dtype=x.dtype, device=x.device)
            total = all_reduce(torch.cat([x.sum(dims), count]))
            n = total[-1].detach()
            mean = total[:-1] / n
            centered = x - mean.view(shape)
            var = all_reduce((centered * centered).sum(dims)) / n
            out = centered * torch.rsqrt(var + self.eps).view(shape)
            if self.affine:
                out = out * self.weight.view(shape) + self.bias.view(shape)
            self.batch_var = var.detach()  # the global batch's biased variance
            if self.track_running_stats:
                self._update_running_stats(mean.detach(), var.detach() * n / (n - 1))
            return out

        @torch.no_grad()
        def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor) -> None:
            self.num_batches_tracked.add_(1)
            m = (
                self.momentum
                if self.momentum is not None
                else 1.0 / float(self.num_batches_tracked)
            )
            self.running_mean.mul_(1 - m).add_(mean, alpha=m)
            self.running_var.mul_(1 - m).add_(var, alpha=m)

    _SYNC_CLASS = SyncBatchNorm
    return _SYNC_CLASS


def all_sum(values: list[float], device: Any = "cpu") -> list[float]:
    """``values`` summed over every rank (one all-reduce; unchanged in a world of one)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_initialized() and dist.get_world_size() > 1):
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def barrier() -> None:
    """Wait for every rank (e.g. before rank 0 reads what all ranks just finished)."""
    import torch.distributed as dist

    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()
