"""What every backend's training script needs from the spec and the recipe, framework-free
(the lowering tables in ``archspec/backends/<name>/training.py`` share it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archspec.backends import BackendError
from archspec.passes.check import Report
from archspec.training.recipe import Cosine, Recipe, TopK

SOFTMAX = "softmax"


Row = Callable[[Any], Any]


def row(table: dict[str, Row], kind: str) -> Callable[[Row], Row]:
    """Register the decorated function as ``table``'s row for recipe entry ``kind``."""

    def register(function: Row) -> Row:
        table[kind] = function
        return function

    return register


def final_softmax(report: Report) -> tuple[str | None, bool]:
    """(node whose output is the logits, whether the model's output is their softmax).

    The loss is computed from the logits behind a final softmax (as Keras does), never from
    ``log(probs)``; a model without a final softmax outputs the logits themselves.
    """
    node = report.graph.node(report.graph.output)
    op = node.op
    if getattr(op, "activation", None) == SOFTMAX:
        return node.name, True
    if getattr(op, "function", None) == SOFTMAX:
        source = report.graph.node(node.inputs[0])
        if getattr(source.op, "activation", None) in (None, "linear") and source.kind != "input":
            return source.name, True
        raise BackendError(
            f"the softmax '{node.name}' follows '{source.name}', whose output is not plain "
            "logits: give that layer no activation"
        )
    return None, False


def n_classes(report: Report) -> int:
    if len(report.graph.outputs) > 1:
        raise BackendError(
            f"training needs one output; {report.name} has {len(report.graph.outputs)} "
            f"({', '.join(report.graph.outputs)})"
        )
    shape = report.output_shape
    if len(shape) != 1:
        raise BackendError(f"training needs a (n_classes,) output, not {shape}")
    return shape[0]


def metric_names(recipe: Recipe) -> list[tuple[str, int]]:
    """(history key, k) per metric: ``accuracy`` is top-1."""
    return [
        ("accuracy", 1) if m == "accuracy" else (f"top_{m.top_k}_accuracy", m.top_k)
        for m in recipe.metrics
        if isinstance(m, str | TopK)
    ]


def context(report: Report, recipe: Recipe, backend: str) -> dict[str, Any]:
    """Template values shared by the backends (literals go in through ``pyrepr``)."""
    graph = report.graph
    logits, softmax = final_softmax(report)
    optimizer, schedule = recipe.optimizer.chosen(), recipe.schedule.chosen()
    if isinstance(schedule, Cosine) and schedule.decay_epochs is None:
        schedule = schedule.model_copy(
            update={"decay_epochs": max(recipe.epochs - schedule.warmup_epochs, 1)}
        )
    return {
        "name": graph.name,
        "backend": backend,
        "spec": Path(graph.filename).as_posix() if graph.filename != "<spec>" else "<spec>",
        "spec_name": Path(graph.filename).name,
        "overrides": dict(graph.overrides),
        # how the data is read (split, scale), as the command line's recipe says: a script run
        # by hand or under torchrun reads its data as `archspec train` did
        "data_settings": recipe.data.model_dump(exclude={"path"}) if recipe.data else {},
        "epochs": recipe.epochs,
        "batch_size": recipe.batch_size,
        "seed": recipe.seed,
        "n_classes": n_classes(report),
        "logits": logits,
        "softmax": softmax,
        "label_smoothing": recipe.loss.chosen().label_smoothing,
        "sync_batch_norm": recipe.sync_batch_norm,
        "precision": recipe.precision,
        "channels_last": recipe.channels_last,
        "metrics": metric_names(recipe),
        "optimizer": optimizer,
        "schedule": schedule,
        "callbacks": {k: v for k, v in recipe.callbacks.model_dump().items() if v is not None},
        "callback_entries": recipe.callbacks,
        "augmentation": [step.model_dump(exclude_none=True) for step in recipe.augmentation],
        "recipe_summary": summary(recipe, optimizer, schedule),
    }


def summary(recipe: Recipe, optimizer: Any, schedule: Any) -> list[str]:
    """Lines for the script's docstring: the recipe in words."""
    fields = ", ".join(f"{k}={v}" for k, v in optimizer.model_dump().items())
    sched = ", ".join(f"{k}={v}" for k, v in schedule.model_dump().items())
    lines = [
        f"{recipe.epochs} epochs of batch {recipe.batch_size}, seed {recipe.seed}.",
        f"Optimizer {optimizer.kind} ({fields}), archspec's meaning (Keras's formulas).",
        f"Schedule {schedule.kind}" + (f" ({sched})." if sched else "."),
    ]
    callbacks = [k for k, v in recipe.callbacks.model_dump().items() if v is not None]
    if callbacks:
        lines.append("Callbacks: " + ", ".join(callbacks) + ".")
    if recipe.augmentation:
        lines.append(
            "Augmentation: " + ", ".join(s.chosen().kind for s in recipe.augmentation) + "."
        )
    return lines
