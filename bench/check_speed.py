"""Target 1: `archspec check specs/alexnet.yaml` against learning the same budget by hand.

Three fresh processes, timed in turn round after round (wall time, medians):
  archspec: ``archspec check specs/alexnet.yaml`` (the console script a user types);
  Keras route: ``python -m bench.hand_keras`` (import TensorFlow, build the notebook's model,
    print ``count_params()``);
  PyTorch route: ``python -m bench.hand_torch`` (build AlexNet by hand, print a torchinfo
    summary).
It also reports what `archspec check` costs before it does any work (``import archspec.cli``
in a fresh process, and ``archspec --help``), and that neither command imports a framework.

Run alone: ``python -m bench.check_speed [--quick]``.
"""

from __future__ import annotations

import argparse
import sys

from bench.common import (
    Result,
    archspec_cli,
    banner,
    fresh_process,
    interleaved,
    median,
    spread,
)

SPEC = "specs/alexnet.yaml"
KERAS_GOAL, TORCH_GOAL = 25.0, 10.0
IMPORT_PROBE = (
    "import time; start = time.perf_counter(); import archspec.cli; "
    "print(time.perf_counter() - start)"
)
FRAMEWORK_PROBE = """
import contextlib, io, sys
from archspec.cli import main
for argv in (["check", {spec!r}], ["--help"]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(argv)
heavy = ("tensorflow", "keras", "torch", "jax")
print(",".join(sorted(m for m in heavy if m in sys.modules)) or "none")
"""


def commands() -> dict[str, list[str]]:
    """The three routes, as argv lists run from the repository root."""
    return {
        "archspec": [archspec_cli(), "check", SPEC],
        "keras": [sys.executable, "-m", "bench.hand_keras"],
        "torch": [sys.executable, "-m", "bench.hand_torch"],
    }


def run(
    quick: bool = False, routes: tuple[str, ...] = ("keras", "torch"), smoke: bool = False
) -> list[Result]:
    """Time the routes side by side; ``routes`` limits the framework routes, ``smoke`` runs
    everything once (the smoke test, which runs no framework route)."""
    banner("1. checking alexnet: archspec check vs building the model by hand")
    argv = commands()
    ours = ("archspec", fresh_process(argv["archspec"]))
    # archspec is cheap: sample it between each framework route, for a steadier median.
    round_ = [ours]
    for name in routes:
        round_ += [(name, fresh_process(argv[name])), ours]
    rounds = 1 if quick or smoke else 4
    times = interleaved(round_, rounds=rounds, warmup=0 if smoke else 1, alternate=True)
    for name, values in times.items():
        print(f"  {name:9s} {spread(values)}   $ {' '.join(argv[name])}")
    results = []
    base = median(times["archspec"])
    goals = {"keras": KERAS_GOAL, "torch": TORCH_GOAL}
    labels = {"keras": "Keras route", "torch": "PyTorch route (torchinfo)"}
    for name in routes:
        ratio = median(times[name]) / base
        results.append(
            Result(
                f"check alexnet vs {labels[name]}",
                ratio,
                "x",
                f">= {goals[name]:g}x",
                ratio >= goals[name],
                f"{spread(times[name])} vs {spread(times['archspec'])}",
                f"{' '.join(argv[name])}  vs  archspec check {SPEC}",
            )
        )
    results += startup(1 if smoke else 3 if quick else 7)
    return results


def startup(samples: int) -> list[Result]:
    """What a command costs before any work: the import, ``--help``, and the framework guard."""
    probe = fresh_process([sys.executable, "-c", IMPORT_PROBE])
    helper = fresh_process([archspec_cli(), "--help"])
    imports = [float(probe()) for _ in range(samples)]
    helps = interleaved([("help", helper)], rounds=samples)["help"]
    heavy = fresh_process([sys.executable, "-c", FRAMEWORK_PROBE.format(spec=SPEC)])().strip()
    print(f"  import archspec.cli: {spread(imports)}; archspec --help: {spread(helps)}")
    print(f"  frameworks imported by check and --help: {heavy}")
    return [
        Result(
            "import archspec.cli (fresh process)",
            median(imports),
            "s",
            "no framework",
            heavy == "none",
            f"frameworks imported by check/--help: {heavy}; --help {spread(helps)}",
            f'python -c "{IMPORT_PROBE}"',
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of four")
    args = parser.parse_args()
    for result in run(args.quick):
        print(result.to_json_line())


if __name__ == "__main__":
    main()
