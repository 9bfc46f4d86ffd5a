"""Target 1: `archspec check specs/alexnet.yaml` against learning the same budget by hand.

Fresh processes, timed in turn round after round (wall and CPU time of each child), all in one
run so that every ratio compares processes that met the same load:
  archspec: ``archspec check specs/alexnet.yaml``, output piped (the console script a user types);
  Keras route: ``python -m bench.hand_keras`` (import TensorFlow, build the notebook's model,
    print ``count_params()``);
  PyTorch route: ``python -m bench.hand_torch`` (build AlexNet by hand with PyTorch's default
    initialisation, print a torchinfo summary);
  floor: a minimal pydantic + PyYAML process (import both, parse a small YAML, validate one
    model, print): the machine-independent guard, since archspec cannot start faster than
    the two libraries it is built on;
  terminal: ``archspec check`` with its output on a pseudo-terminal (the rich table);
  help: ``archspec --help`` and ``archspec check --help``.
Ratios are paired medians: within each round, the other process's time over archspec's (the
median of archspec's samples in that round), then the median over rounds. It also checks that
``python -m archspec`` and ``archspec --version`` work, that neither ``check`` nor ``--help``
imports a framework, and times a 50,000-layer chain as a fresh ``archspec check``.

Run alone: ``python -m bench.check_speed [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import resource
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import CHILD_ENV, ROOT, Result, archspec_cli, banner, median
from bench.specs import chain

SPEC = "specs/alexnet.yaml"
KERAS_GOAL, TORCH_GOAL = 25.0, 13.0
FLOOR_GOAL, TERMINAL_GOAL, HELP_GOAL = 1.0, 1.3, 0.5
BIG_LAYERS, BIG_LIMIT_S = 50_000, 2.0
FLOOR = """\
import yaml
from pydantic import BaseModel


class Layer(BaseModel):
    name: str
    units: int
    activation: str | None = None


data = yaml.safe_load("name: dense\\nunits: 10\\nactivation: relu\\n")
print(Layer.model_validate(data))
"""
FRAMEWORK_PROBE = """
import contextlib, io, sys
from archspec.cli import main
for argv in (["check", {spec!r}], ["--help"]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(argv)
heavy = ("tensorflow", "keras", "torch", "jax")
print(",".join(sorted(m for m in heavy if m in sys.modules)) or "none")
"""
Timed = tuple[float, float]  # (wall, cpu) seconds
Rounds = list[dict[str, Timed]]  # per round, each name's median sample
Samples = dict[str, list[Timed]]


def run_child(argv: Sequence[str], terminal: bool = False) -> tuple[Timed, str]:
    """Run ``argv`` as a fresh process in the repository root: (wall, CPU) seconds and its
    output. ``terminal`` gives it a 120x40 pseudo-terminal as stdout (rich draws its table)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if terminal:
        status, out = _run_on_terminal(argv)
    else:
        done = subprocess.run(list(argv), cwd=ROOT, env=CHILD_ENV, capture_output=True, text=True)
        status, out = done.returncode, done.stdout + done.stderr[-2000:]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if status != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({status}):\n{out[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return (wall, cpu), out


def _run_on_terminal(argv: Sequence[str]) -> tuple[int, str]:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:  # read as it comes, so a full pty buffer never blocks the child
        with contextlib.suppress(OSError):
            while data := os.read(leader, 65536):
                chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {k: v for k, v in CHILD_ENV.items() if k not in ("NO_COLOR", "TERM")}
    env["TERM"] = "xterm-256color"
    process = subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=follower, stderr=follower)
    os.close(follower)
    status = process.wait()
    reader.join(timeout=10)
    os.close(leader)
    return status, b"".join(chunks).decode("utf-8", "replace")


def routes(frameworks: Sequence[str]) -> dict[str, tuple[list[str], bool]]:
    """name -> (argv, on a terminal) of every process timed, run from the repository root."""
    cli = archspec_cli()
    found = {
        "archspec": ([cli, "check", SPEC], False),
        "floor": ([sys.executable, "-c", FLOOR], False),
        "terminal": ([cli, "check", SPEC], True),
        "help": ([cli, "--help"], False),
        "check_help": ([cli, "check", "--help"], False),
    }
    for name in frameworks:
        found[name] = ([sys.executable, "-m", f"bench.hand_{name}"], False)
    return found


def measure(
    argvs: dict[str, tuple[list[str], bool]], rounds: int, warmup: int
) -> tuple[Samples, Rounds]:
    """Every process once per round, archspec between each of the others (order reversed
    every other round); per name all samples, and per round each name's median sample."""
    others = [name for name in argvs if name != "archspec"]
    samples: Samples = {name: [] for name in argvs}
    per_round = []
    for index in range(warmup + rounds):
        order = others if index % 2 == 0 else others[::-1]
        this: dict[str, list[Timed]] = {name: [] for name in argvs}
        for name in ["archspec", *(n for other in order for n in (other, "archspec"))]:
            argv, terminal = argvs[name]
            this[name].append(run_child(argv, terminal)[0])
        if index < warmup:
            continue
        for name, found in this.items():
            samples[name] += found
        per_round.append({name: _median_pair(found) for name, found in this.items()})
    return samples, per_round


def _median_pair(values: Sequence[Timed]) -> Timed:
    return (median([v[0] for v in values]), median([v[1] for v in values]))


def paired(per_round: Rounds, top: str, bottom: str, part: int = 0) -> float:
    """Median over rounds of ``top / bottom`` within the round (part 0: wall, 1: CPU)."""
    return median([r[top][part] / r[bottom][part] for r in per_round])


def ms(values: Sequence[Timed]) -> str:
    """``wall 112 ms, CPU 104 ms (n=9)``: medians of one process's samples."""
    wall, cpu = _median_pair(values)
    return f"wall {wall * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms (n={len(values)})"


def run(
    quick: bool = False, frameworks: Sequence[str] = ("keras", "torch"), smoke: bool = False
) -> list[Result]:
    """Time everything side by side; ``frameworks`` limits the framework routes; ``smoke``
    runs each process once without warm-up (the smoke test, which runs no framework route)."""
    banner("1. checking alexnet: archspec check vs building the model by hand")
    argvs = routes(frameworks)
    rounds = 1 if smoke else 2 if quick else 5
    samples, per_round = measure(argvs, rounds, warmup=0 if smoke else 1)
    for name, values in samples.items():
        argv, terminal = argvs[name]
        shown = " ".join(Path(a).name if a == archspec_cli() else a for a in argv)
        shown = shown if name != "floor" else "python -c <import pydantic, yaml; validate one>"
        print(f"  {name:10s} {ms(values)}   $ {shown}{'  (on a terminal)' if terminal else ''}")
    results = [_ratio(per_round, samples, name) for name in frameworks]
    results += [_guard(per_round, samples, name) for name in ("floor", "terminal")]
    results += [_guard(per_round, samples, name) for name in ("help", "check_help")]
    results += entry_points()
    results.append(big_chain(BIG_LAYERS if not smoke else 200, 1 if smoke or quick else 3))
    return results


def _ratio(per_round: Rounds, samples: Samples, name: str) -> Result:
    goal = {"keras": KERAS_GOAL, "torch": TORCH_GOAL}[name]
    label = {"keras": "Keras route", "torch": "PyTorch route (torchinfo)"}[name]
    wall, cpu = paired(per_round, name, "archspec"), paired(per_round, name, "archspec", 1)
    return Result(
        f"check alexnet vs {label}",
        wall,
        "x",
        f">= {goal:g}x",
        wall >= goal,
        f"paired median, wall; CPU {cpu:.1f}x. {name}: {ms(samples[name])}; "
        f"archspec: {ms(samples['archspec'])}",
        f"python -m bench.hand_{name}  vs  archspec check {SPEC}",
    )


GUARDS = {
    "floor": ("check / minimal pydantic+PyYAML process", FLOOR_GOAL, "python -c <FLOOR>"),
    "terminal": ("check on a terminal (rich) / piped", TERMINAL_GOAL, f"archspec check {SPEC}"),
    "help": ("archspec --help / check", HELP_GOAL, "archspec --help"),
    "check_help": ("archspec check --help / check", HELP_GOAL, "archspec check --help"),
}


def _guard(per_round: Rounds, samples: Samples, name: str) -> Result:
    """A ratio against archspec's own piped check; the floor is the other way round."""
    label, goal, command = GUARDS[name]
    top, bottom = ("archspec", name) if name == "floor" else (name, "archspec")
    wall, cpu = paired(per_round, top, bottom), paired(per_round, top, bottom, 1)
    return Result(
        label,
        wall,
        "x",
        f"<= {goal:g}x",
        wall <= goal and cpu <= goal,
        f"paired median, wall (CPU {cpu:.2f}x). {name}: {ms(samples[name])}; "
        f"archspec: {ms(samples['archspec'])}",
        f"{command}  vs  archspec check {SPEC}" if name != "floor" else command,
    )


def entry_points() -> list[Result]:
    """``python -m archspec`` and ``archspec --version`` work; no framework on check's path."""
    from archspec import __version__

    _, module_help = run_child([sys.executable, "-m", "archspec", "--help"])
    timed, version = run_child([archspec_cli(), "--version"])
    heavy = subprocess.run(
        [sys.executable, "-c", FRAMEWORK_PROBE.format(spec=SPEC)],
        cwd=ROOT,
        env=CHILD_ENV,
        capture_output=True,
        text=True,
    ).stdout.strip()
    works = "usage: archspec" in module_help and version.strip() == f"archspec {__version__}"
    print(f"  python -m archspec --help, archspec --version: {version.strip()!r}")
    print(f"  frameworks imported by check and --help: {heavy}")
    return [
        Result(
            "`python -m archspec`, `archspec --version`; frameworks imported by check/--help",
            timed[0],
            "s",
            "work; no framework",
            works and heavy == "none",
            f"--version prints {version.strip()!r}; frameworks imported: {heavy}",
            "python -m archspec --help; archspec --version",
        )
    ]


def big_chain(layers: int, rounds: int) -> Result:
    """A chain of ``layers`` layers written out one per line, checked as a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"chain_{layers}.yaml"
        path.write_text(chain(layers), encoding="utf-8")
        times = [run_child([archspec_cli(), "check", str(path)])[0] for _ in range(rounds)]
    print(f"  archspec check chain_{layers}.yaml: {ms(times)}")
    wall = median([t[0] for t in times])
    return Result(
        f"`archspec check` chain of {layers:,} layers (fresh process, table piped)",
        wall,
        "s",
        f"< {BIG_LIMIT_S:g} s",
        wall < BIG_LIMIT_S,
        ms(times),
        f"archspec check chain_{layers}.yaml  (python -c 'from bench.specs import chain; "
        f"print(chain({layers}))' > chain_{layers}.yaml)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two rounds instead of five")
    args = parser.parse_args()
    for result in run(args.quick):
        print(result.to_json_line())


if __name__ == "__main__":
    main()
