"""The PyTorch training lowering: one row per optimizer and schedule, then the loop template.

archspec's optimizers have Keras's formulas (``archspec.training.recipe``), which
``torch.optim`` does not offer (Adam's epsilon, RMSprop's epsilon inside the root, SGD's
velocity, decoupled decay everywhere), so each optimizer row names a small ``Optimizer``
class written out in the script (``templates/torch/_optim.j2``). Schedules are ``LambdaLR``
multipliers of the step (0-based), stepped after every optimizer step. Framework-free.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from archspec.backends import training_plan as plan
from archspec.codegen.common import environment, pyrepr
from archspec.passes.check import Report
from archspec.training.recipe import Recipe

OPTIMIZERS: dict[str, plan.Row] = {}
SCHEDULES: dict[str, plan.Row] = {}
row = plan.row


def _call(cls: str, o: Any, **fields: Any) -> tuple[str, str]:
    """(class, its call with one argument per line, as ruff lays out a long call)."""
    args = {"lr": "LEARNING_RATE"} | {k: pyrepr(v) for k, v in fields.items()}
    args["weight_decay"] = pyrepr(o.weight_decay)
    inner = "".join(f"        {key}={value},\n" for key, value in args.items())
    return cls, f"{cls}(\n        parameters,\n{inner}    )"


@row(OPTIMIZERS, "sgd")
def _sgd(o: Any) -> tuple[str, str]:
    return _call("KerasSGD", o, momentum=o.momentum, nesterov=o.nesterov)


@row(OPTIMIZERS, "adam")
def _adam(o: Any) -> tuple[str, str]:
    return _call("KerasAdam", o, beta_1=o.beta_1, beta_2=o.beta_2, epsilon=o.epsilon)


# AdamW is Adam with decoupled decay, which every archspec optimizer has.
OPTIMIZERS["adamw"] = _adam


@row(OPTIMIZERS, "rmsprop")
def _rmsprop(o: Any) -> tuple[str, str]:
    return _call("KerasRMSprop", o, rho=o.rho, momentum=o.momentum, epsilon=o.epsilon)


# Schedules: the body of `multiplier(step)` (step 0-based; `steps_per_epoch` in scope), the
# factor LambdaLR applies to LEARNING_RATE; None for no scheduler.
@row(SCHEDULES, "constant")
def _constant(s: Any) -> list[str] | None:
    return None


@row(SCHEDULES, "step")
def _step(s: Any) -> list[str]:
    return [f"return {pyrepr(s.factor)} ** (step // ({s.every} * steps_per_epoch))"]


@row(SCHEDULES, "piecewise")
def _piecewise(s: Any) -> list[str]:
    return [
        f"passed = sum(step >= b * steps_per_epoch for b in {pyrepr(s.boundaries)})",
        f"return {pyrepr(s.factors)}[passed]",
    ]


@row(SCHEDULES, "exponential")
def _exponential(s: Any) -> list[str]:
    divide = "//" if s.staircase else "/"
    return [f"return {pyrepr(s.rate)} ** (step {divide} steps_per_epoch)"]


@row(SCHEDULES, "cosine")
def _cosine(s: Any) -> list[str]:
    alpha = pyrepr(s.alpha)
    lines = [
        f"warmup, decay = {s.warmup_epochs} * steps_per_epoch, {s.decay_epochs} * steps_per_epoch"
    ]
    if s.warmup_epochs:
        lines += ["if step < warmup:", "    return step / warmup"]
    return [
        *lines,
        "done = min(step - warmup, decay) / decay",
        f"return {alpha} + (1 - {alpha}) * 0.5 * (1 + math.cos(math.pi * done))"
        if s.alpha
        else "return 0.5 * (1 + math.cos(math.pi * done))",
    ]


@row(SCHEDULES, "warmup")
def _warmup(s: Any) -> list[str]:
    return [f"return min(step / ({s.epochs} * steps_per_epoch), 1.0)"]


def has_gpu() -> bool:
    """Whether a CUDA device is present (mixed_float16 needs one)."""
    import torch

    return torch.cuda.is_available()


@contextmanager
def building(precision: str) -> Iterator[None]:
    """Where archspec builds the model for a run: PyTorch builds float32 whatever the
    precision (autocast acts in the loop)."""
    yield


def generate_training(report: Report, recipe: Recipe) -> str:
    """The standalone PyTorch training script (a plain loop)."""
    values = plan.context(report, recipe, "torch")
    values["optimizer_class"], values["optimizer_call"] = OPTIMIZERS[values["optimizer"].kind](
        values["optimizer"]
    )
    values["schedule_expr"] = SCHEDULES[values["schedule"].kind](values["schedule"])
    values["has_batch_norm"] = any(layer.node.kind == "batch_norm" for layer in report.layers)
    return environment("torch").get_template("train.py.j2").render(**values)
