"""What the generated training scripts share and that no framework does: the run directory.

``RUN_DIR/history.json`` (one object per epoch), ``RUN_DIR/state.json`` (where to resume:
completed epochs, the callbacks' counters and the run's fingerprint), the progress line (live
on a terminal, one line per epoch otherwise), and the stop on a non-finite loss.
Framework-free; the scripts import it.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HISTORY, STATE = "history.json", "state.json"
# ARCHSPEC_PROGRESS: "live" (a line updated in place during the epoch), "plain" (one line per
# epoch), or "auto" (live when stdout is a terminal): logs and captured output stay clean.
ENV_PROGRESS = "ARCHSPEC_PROGRESS"
LIVE_INTERVAL_S = 0.1  # the live line is redrawn at most this often (and at the epoch's end)
BAR_WIDTH = 20


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite: the run stops (exit status 1)."""


class ResumeMismatch(ValueError):
    """``--resume`` on a run made from another recipe or spec: refused (exit status 2)."""


def write_json(path: Path, value: Any) -> None:
    """Write JSON beside ``path``, then rename it into place (never a half-written file)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)


def read_state(run_dir: str | Path) -> dict[str, Any]:
    """The saved state of a run (``{}`` for a fresh one)."""
    path = Path(run_dir) / STATE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The fingerprint keys whose values differ, as ``key (old -> new)``."""
    unset = "unset"
    return [
        f"{key} ({saved.get(key, unset)} -> {current.get(key, unset)})"
        for key in sorted(set(saved) | set(current))
        if saved.get(key, unset) != current.get(key, unset)
    ]


def check_resume(run_dir: str | Path, fingerprint: dict[str, Any] | None) -> None:
    """Refuse to continue ``run_dir`` with another recipe or spec than the one it was made from.

    ``fingerprint`` is the flat ``{"recipe.KEY": value, "spec.LAYER": hash}`` of this run; a run
    saved without one (or a check without one) is not compared.
    """
    saved = read_state(run_dir).get("fingerprint")
    if fingerprint is None or saved is None:
        return
    if changed := differences(saved, fingerprint):
        raise ResumeMismatch(
            f"cannot resume {run_dir}: the recipe or spec differs from the saved run's: "
            f"{', '.join(changed)}; undo the change or train into a new RUN_DIR"
        )


def live_progress(environ: dict[str, str] | None = None) -> bool:
    """Whether the progress line is redrawn in place during the epoch (see ENV_PROGRESS)."""
    mode = (os.environ if environ is None else environ).get(ENV_PROGRESS, "auto")
    return mode == "live" or (mode == "auto" and sys.stdout.isatty())


def _rank(key: str) -> int:
    """loss, the metrics, val_loss, the val_ metrics, then lr: the same order in every backend
    (Keras's logs sort the metrics before the loss)."""
    val = key.startswith("val_")
    return {"epoch": 0, "loss": 1, "val_loss": 3, "lr": 5}.get(key, 4 if val else 2)


def in_order(values: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(values.items(), key=lambda item: _rank(item[0])))


def format_step(
    epoch: int, epochs: int, step: int, steps: int, values: dict[str, float], lr: float
) -> str:
    """``epoch 3/10 [=========>..........] 12/25 - loss: 0.4123 - accuracy: 0.8750 - lr: ...``
    (``step`` 1-based; ``values`` the running means of the epoch so far)."""
    done = BAR_WIDTH * step // steps
    bar = "=" * done + (">" if done < BAR_WIDTH else "") + "." * (BAR_WIDTH - done - 1)
    parts = [f"epoch {epoch}/{epochs} [{bar[:BAR_WIDTH]}] {step}/{steps}"]
    parts += [f"{key}: {value:.4f}" for key, value in in_order(values).items()]
    return " - ".join([*parts, f"lr: {lr:.2e}"])


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
        fingerprint: dict[str, Any] | None = None,
    ) -> None:
        self.run_dir, self.epochs, self.is_chief = Path(run_dir), epochs, is_chief
        self.progress, self.fingerprint = progress, fingerprint
        if initial_epoch:
            check_resume(run_dir, fingerprint)
        # Live only when the epoch lines go to stdout (print), not to a caller's function.
        self.live = progress is print and live_progress()
        self.drawn = 0.0
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
        self.drawn = 0.0

    def due(self, step: int, steps: int) -> bool:
        """Whether the live line is redrawn after step ``step`` (1-based) of ``steps``."""
        return self.live and (step == steps or time.perf_counter() - self.drawn >= LIVE_INTERVAL_S)

    def step(self, epoch: int, step: int, steps: int, values: dict[str, float], lr: float) -> None:
        """Draw the live line after training step ``step`` (1-based) of epoch ``epoch``."""
        self.drawn = time.perf_counter()
        line = format_step(epoch, self.epochs, step, steps, values, float(lr))
        sys.stdout.write(f"\r{line}\x1b[K")
        sys.stdout.flush()

    def end_epoch(self, record: dict[str, Any], state: dict[str, Any]) -> None:
        """Record an epoch (1-based ``epoch`` in ``record``); ``state`` is what resuming needs."""
        record = {k: float(v) if k != "epoch" else int(v) for k, v in in_order(record).items()}
        if not math.isfinite(record["loss"]):
            raise NonFiniteLoss(
                f"the training loss is {record['loss']} in epoch {record['epoch']}: lower the "
                "learning rate, check the data's scale, or add normalisation"
            )
        self.history.append(record)
        if self.is_chief:
            write_json(self.path(HISTORY), self.history)
            saved = {"epoch": record["epoch"], **state}
            if self.fingerprint is not None:
                saved["fingerprint"] = self.fingerprint
            write_json(self.path(STATE), saved)
        if self.live:  # the epoch's line replaces the live one
            sys.stdout.write("\r\x1b[K")
        if self.progress is not None:
            self.progress(format_epoch(record, self.epochs, time.perf_counter() - self.started))
