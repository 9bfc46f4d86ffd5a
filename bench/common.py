"""Timing helpers shared by the benchmarks: medians of interleaved repetitions, side by side.

The machines these run on are shared and noisy, so no benchmark trusts one measurement: every
contender is timed in turn, round after round (A B A B ...), so that a burst of load from a
neighbour falls on all of them alike, and each ratio is taken between medians of the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Child processes run as a user's would: quiet TensorFlow, and bytecode cached in __pycache__
# (some sandboxes set PYTHONDONTWRITEBYTECODE, which recompiles every module at each start).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
MARK = "RESULT "


@dataclass(frozen=True)
class Result:
    """One line of the final table: a measured value (a ratio, or seconds) against its goal."""

    name: str
    value: float
    unit: str  # "x" for ratios, "s" for seconds
    goal: str
    ok: bool
    detail: str
    command: str

    def measured(self) -> str:
        return f"{self.value:.2f}x" if self.unit == "x" else f"{self.value:.3f} s"

    def to_json_line(self) -> str:
        """How a benchmark run in a child process hands its result to ``bench.main``."""
        return MARK + json.dumps(asdict(self))

    @classmethod
    def from_line(cls, line: str) -> Result | None:
        return cls(**json.loads(line[len(MARK) :])) if line.startswith(MARK) else None


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def interleaved(
    contenders: Sequence[tuple[str, Callable[[], object]]],
    rounds: int,
    warmup: int = 0,
    between: Callable[[], object] | None = None,
    alternate: bool = False,
) -> dict[str, list[float]]:
    """Wall seconds of each contender, timed in turn round after round (after ``warmup``
    untimed rounds), so that background load falls on all of them alike.

    A name may appear more than once in a round (more samples of a cheap contender).
    ``between`` runs untimed before each timing (e.g. to free the previous model);
    ``alternate`` reverses the order every other round, so that going first or last (after
    a release, say) favours no one.
    """
    times: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for index in range(warmup + rounds):
        order = contenders[::-1] if alternate and index % 2 else contenders
        for name, run in order:
            if between is not None:
                between()
            start = time.perf_counter()
            run()
            elapsed = time.perf_counter() - start
            if index >= warmup:
                times[name].append(elapsed)
    return times


def paired(times: dict[str, list[float]], top: str, bottom: str) -> float:
    """The median over rounds of ``top / bottom`` timed in the same round: steadier than a
    ratio of medians when the load drifts during the run."""
    return median([a / b for a, b in zip(times[top], times[bottom], strict=True)])


def fresh_process(argv: Sequence[str]) -> Callable[[], str]:
    """A callable that runs ``argv`` as a new process in the repository root and returns its
    stdout; a failure stops the benchmark (a route that crashes is not fast)."""

    def run() -> str:
        result = subprocess.run(
            list(argv), cwd=ROOT, env=CHILD_ENV, capture_output=True, text=True, timeout=600
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    return run


def archspec_cli() -> str:
    """The installed ``archspec`` console script (what a user types), next to this Python."""
    script = Path(sys.executable).with_name("archspec")
    return str(script) if script.exists() else "archspec"


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def spread(values: Sequence[float]) -> str:
    """``median (min .., n=..)`` for a detail column."""
    return f"{seconds(median(values))} (min {seconds(min(values))}, n={len(values)})"


def banner(title: str) -> None:
    print(f"\n== {title}", flush=True)
