"""The Keras training lowering: one row per optimizer and schedule, then the script template.

Each row writes archspec's meaning (``archspec.training.recipe``) as explicit Keras arguments;
nothing is left to a Keras default. Framework-free: it writes text.
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


def call(function: str, **args: str) -> str:
    """``function(`` + one ``key=value,`` per line + ``)``, as ruff lays out a long call."""
    inner = "".join(f"        {key}={value},\n" for key, value in args.items())
    return f"{function}(\n{inner}    )"


def _decay(wd: float) -> str:
    # NOTE: Keras skips decay only for None; 0.0 would still multiply every weight each step.
    return pyrepr(wd) if wd else "None"


@row(OPTIMIZERS, "sgd")
def _sgd(o: Any) -> str:
    return call(
        "keras.optimizers.SGD",
        learning_rate="learning_rate",
        momentum=pyrepr(o.momentum),
        nesterov=pyrepr(o.nesterov),
        weight_decay=_decay(o.weight_decay),
    )


@row(OPTIMIZERS, "adam")
def _adam(o: Any) -> str:
    return call(
        "keras.optimizers.Adam",
        learning_rate="learning_rate",
        beta_1=pyrepr(o.beta_1),
        beta_2=pyrepr(o.beta_2),
        epsilon=pyrepr(o.epsilon),
        amsgrad="False",
        weight_decay=_decay(o.weight_decay),
    )


@row(OPTIMIZERS, "adamw")
def _adamw(o: Any) -> str:
    return _adam(o).replace("Adam(", "AdamW(", 1)


@row(OPTIMIZERS, "rmsprop")
def _rmsprop(o: Any) -> str:
    return call(
        "keras.optimizers.RMSprop",
        learning_rate="learning_rate",
        rho=pyrepr(o.rho),
        momentum=pyrepr(o.momentum),
        epsilon=pyrepr(o.epsilon),
        centered="False",
        weight_decay=_decay(o.weight_decay),
    )


# Schedules: `steps_per_epoch` and `EPOCHS` are names in the script; Keras counts steps from 0,
# and PiecewiseConstantDecay keeps values[i] up to and including boundaries[i], hence the -1.
SCHEDULE = "keras.optimizers.schedules."


@row(SCHEDULES, "constant")
def _constant(s: Any) -> str:
    return "LEARNING_RATE"


@row(SCHEDULES, "step")
def _step(s: Any) -> str:
    every, factor = pyrepr(s.every), pyrepr(s.factor)
    return (
        f"{SCHEDULE}PiecewiseConstantDecay(\n"
        f"        boundaries=[k * {every} * steps_per_epoch - 1 for k in range(1, EPOCHS // {every} + 2)],\n"
        f"        values=[LEARNING_RATE * {factor}**k for k in range(EPOCHS // {every} + 2)],\n"
        "    )"
    )


@row(SCHEDULES, "piecewise")
def _piecewise(s: Any) -> str:
    return (
        f"{SCHEDULE}PiecewiseConstantDecay(\n"
        f"        boundaries=[b * steps_per_epoch - 1 for b in {pyrepr(s.boundaries)}],\n"
        f"        values=[LEARNING_RATE * f for f in {pyrepr(s.factors)}],\n"
        "    )"
    )


@row(SCHEDULES, "exponential")
def _exponential(s: Any) -> str:
    return call(
        f"{SCHEDULE}ExponentialDecay",
        initial_learning_rate="LEARNING_RATE",
        decay_steps="steps_per_epoch",
        decay_rate=pyrepr(s.rate),
        staircase=pyrepr(s.staircase),
    )


@row(SCHEDULES, "cosine")
def _cosine(s: Any) -> str:
    if not s.warmup_epochs:
        return call(
            f"{SCHEDULE}CosineDecay",
            initial_learning_rate="LEARNING_RATE",
            decay_steps=f"{s.decay_epochs} * steps_per_epoch",
            alpha=pyrepr(s.alpha),
        )
    return (
        f"{SCHEDULE}CosineDecay(\n"
        "        0.0,\n"
        f"        decay_steps={s.decay_epochs} * steps_per_epoch,\n"
        f"        alpha={pyrepr(s.alpha)},\n"
        "        warmup_target=LEARNING_RATE,\n"
        f"        warmup_steps={s.warmup_epochs} * steps_per_epoch,\n"
        "    )"
    )


@row(SCHEDULES, "warmup")
def _warmup(s: Any) -> str:
    # NOTE: CosineDecay with alpha=1 never decays: its warm-up alone, then LEARNING_RATE.
    return (
        f"{SCHEDULE}CosineDecay(\n"
        "        0.0,\n"
        "        decay_steps=1,\n"
        "        alpha=1.0,\n"
        "        warmup_target=LEARNING_RATE,\n"
        f"        warmup_steps={s.epochs} * steps_per_epoch,\n"
        "    )"
    )


def has_gpu() -> bool:
    """Whether TensorFlow sees a GPU (mixed_float16 needs one)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@contextmanager
def building(precision: str) -> Iterator[None]:
    """Keras's global dtype policy set to ``precision`` while the model is built (its layers
    take the policy then), and put back after, so other models built in-process stay float32."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def generate_training(report: Report, recipe: Recipe) -> str:
    """The standalone Keras training script (compile + fit with callbacks)."""
    values = plan.context(report, recipe, "keras")
    # mixed precision: the output layer (and the logits layer behind a softmax) stay float32
    output = report.graph.output
    values["float32_layers"] = sorted({output, values["logits"] or output})
    values["optimizer_call"] = OPTIMIZERS[values["optimizer"].kind](values["optimizer"])
    values["schedule_expr"] = SCHEDULES[values["schedule"].kind](values["schedule"])
    return environment("keras").get_template("train.py.j2").render(**values)
