"""What the generated training scripts share and that no framework does: the run directory.

``RUN_DIR/history.json`` (one object per epoch), ``RUN_DIR/state.json`` (where to resume:
completed epochs and the callbacks' counters), the progress line, and the stop on a
non-finite loss. Framework-free; the scripts import it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HISTORY, STATE = "history.json", "state.json"


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite: the run stops (exit status 1)."""


def write_json(path: Path, value: Any) -> None:
    """Write JSON beside ``path``, then rename it into place (never a half-written file)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)


def read_state(run_dir: str | Path) -> dict[str, Any]:
    """The saved state of a run (``{}`` for a fresh one)."""
    path = Path(run_dir) / STATE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def format_epoch(record: dict[str, Any], epochs: int, seconds: float) -> str:
    """``epoch 3/10 - 2.1s - loss: 0.4123 - accuracy: 0.8750 - ... - lr: 1.0e-03``."""
    parts = [f"epoch {record['epoch']}/{epochs}", f"{seconds:.1f}s"]
    for key, value in record.items():
        if key == "lr":
            parts.append(f"lr: {value:.2e}")
        elif key != "epoch":
            parts.append(f"{key}: {value:.4f}")
    return " - ".join(parts)


class RunLog:
    """The run directory of one training run, written by the chief process only."""

    def __init__(
        self,
        run_dir: str | Path,
        epochs: int,
        initial_epoch: int = 0,
        is_chief: bool = True,
        progress: Callable[[str], Any] | None = print,
    ) -> None:
        self.run_dir, self.epochs, self.is_chief = Path(run_dir), epochs, is_chief
        self.progress = progress
        history = self.run_dir / HISTORY
        old = json.loads(history.read_text("utf-8")) if initial_epoch and history.is_file() else []
        self.history: list[dict[str, Any]] = old[:initial_epoch]
        self.started = time.perf_counter()
        if is_chief:
            self.run_dir.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.run_dir / name

    def save(self, name: str, write: Callable[[Path], Any]) -> None:
        """``write(path)`` beside ``RUN_DIR/name``, then renamed into place: a Ctrl-C while
        saving leaves the previous epoch's file whole (state.json still points at it)."""
        target = self.path(name)
        partial = target.with_name(f"partial.{target.name}")  # same suffix: Keras checks it
        write(partial)
        os.replace(partial, target)

    def begin_epoch(self) -> None:
        self.started = time.perf_counter()

    def end_epoch(self, record: dict[str, Any], state: dict[str, Any]) -> None:
        """Record an epoch (1-based ``epoch`` in ``record``); ``state`` is what resuming needs."""
        record = {k: float(v) if k != "epoch" else int(v) for k, v in record.items()}
        if not math.isfinite(record["loss"]):
            raise NonFiniteLoss(
                f"the training loss is {record['loss']} in epoch {record['epoch']}: lower the "
                "learning rate, check the data's scale, or add normalisation"
            )
        self.history.append(record)
        if self.is_chief:
            write_json(self.path(HISTORY), self.history)
            write_json(self.path(STATE), {"epoch": record["epoch"], **state})
        if self.progress is not None:
            self.progress(format_epoch(record, self.epochs, time.perf_counter() - self.started))
