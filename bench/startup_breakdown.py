"""Where a fresh `archspec check specs/alexnet.yaml` spends its time, stage by stage.

Each stage is a fresh process that stops after one more step of what `archspec check` does
(start Python; import pydantic and PyYAML; the command line; the op table; the front end and
the summary; the whole check), all with the command's own start-up (collector paused, no plugin
scan, quick exit), timed in turn round after round; a stage's cost is its median minus the
previous stage's. The teardown the command skips is measured on the floor process (a minimal
pydantic + PyYAML tool) run with and without ``os._exit``.

Run: ``python -m bench.startup_breakdown [--rounds N]``.
"""

from __future__ import annotations

import argparse
import sys

from bench.check_speed import FLOOR, run_child
from bench.common import median

STAGE = """\
import sys
from archspec.util import startup
startup.begin()
startup.settle(quick=True)
stage = {stage}
if stage >= 1:
    import pydantic, yaml
if stage >= 2:
    import archspec.cli, archspec.cli.check
if stage >= 3:
    import archspec.ops
if stage >= 4:
    import archspec.display.summary, archspec.frontend.load
if stage >= 5:
    from archspec.cli import main
    main(["check", "specs/alexnet.yaml"])
startup.end_now(0)
"""
STAGES = [
    "Python start and site (a bare `python -c pass` is shown beside)",
    "import pydantic and PyYAML",
    "the command line (archspec.cli, the check command)",
    "the op table (archspec.ops: pydantic builds the op classes)",
    "front end, checker and summary modules",
    "load, validate, check, print alexnet (op schemas compiled on first use)",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    argvs = {f"stage {i}": [sys.executable, "-c", STAGE.format(stage=i)] for i in range(6)}
    argvs["python -c pass"] = [sys.executable, "-c", "pass"]
    argvs["floor"] = [sys.executable, "-c", FLOOR]
    argvs["floor, os._exit"] = [
        sys.executable,
        "-c",
        FLOOR + "import os, sys\nsys.stdout.flush()\nos._exit(0)\n",
    ]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in argvs}
    for index in range(args.rounds + 1):
        for name, argv in argvs.items():
            timed, _ = run_child(argv)
            if index:
                times[name].append(timed)
    wall = {name: median([t[0] for t in values]) for name, values in times.items()}
    cpu = {name: median([t[1] for t in values]) for name, values in times.items()}
    print("| part | wall ms | CPU ms |\n|---|---:|---:|")
    previous = (0.0, 0.0)
    for index, label in enumerate(STAGES):
        now = (wall[f"stage {index}"], cpu[f"stage {index}"])
        print(
            f"| {label} | {(now[0] - previous[0]) * 1000:.0f} | {(now[1] - previous[1]) * 1000:.0f} |"
        )
        previous = now
    print(f"| **archspec check, total** | {previous[0] * 1000:.0f} | {previous[1] * 1000:.0f} |")
    for name in ("python -c pass", "floor", "floor, os._exit"):
        print(f"| {name} | {wall[name] * 1000:.0f} | {cpu[name] * 1000:.0f} |")


if __name__ == "__main__":
    main()
