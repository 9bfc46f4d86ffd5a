"""Target 2: checking grows linearly, and 10,000 layers check in under 2 s.

Generated specs (bench/specs.py): a chain written out layer by layer, the same chain as one
repeated block, and a DAG with residual adds (three-way fan-in) and concatenations. Each is
checked at 1,000 and 10,000 layers, in this process (load = parse, expand, validate, lower; then
infer shapes and parameters), sizes interleaved round after round, each run from a collected
heap; the 10k/1k ratio (median over rounds of the ratio within a round) shows any quadratic
pass. The 10,000-layer files are also checked by the ``archspec`` command,
as a user would run it (start-up and the printed table included).

Run alone: ``python -m bench.scale [--quick]``; ``--profile dag`` prints where a 10,000-layer
check of one generated spec spends its time (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import tempfile
from collections.abc import Callable
from pathlib import Path

from archspec.frontend.load import load
from archspec.passes.check import check
from bench.common import (
    Result,
    archspec_cli,
    banner,
    fresh_process,
    interleaved,
    median,
    paired,
    spread,
)
from bench.specs import GENERATORS

SMALL, LARGE = 1_000, 10_000
LIMIT_S, MAX_GROWTH = 2.0, 12.0
ROUNDS = 5
CLI_KINDS = ("chain", "dag")


def pipeline(text: str) -> Callable[[], object]:
    """Everything `archspec check` does to a spec's text, short of printing the table."""
    return lambda: check(load(text))


def run(
    quick: bool = False, small: int = SMALL, large: int = LARGE, smoke: bool = False
) -> list[Result]:
    """Time every generated spec at both sizes; ``smoke`` runs each once, without warm-up."""
    banner(f"2. scale: generated specs of {small:,} and {large:,} layers")
    texts = {
        (kind, size): make(size) for kind, make in GENERATORS.items() for size in (small, large)
    }
    contenders = [(f"{kind}/{size}", pipeline(text)) for (kind, size), text in texts.items()]
    warmup = 0 if smoke else 1
    rounds = 1 if quick or smoke else ROUNDS
    times = interleaved(contenders, rounds, warmup, between=gc.collect, alternate=True)
    results = []
    for kind in GENERATORS:
        big, little = times[f"{kind}/{large}"], times[f"{kind}/{small}"]
        growth = paired(times, f"{kind}/{large}", f"{kind}/{small}")
        print(f"  {kind:13s} {large:,}: {spread(big)}   {small:,}: {spread(little)}")
        results.append(
            Result(
                f"scale: {kind} of {large:,} layers, load + check",
                median(big),
                "s",
                f"< {LIMIT_S:g} s",
                median(big) < LIMIT_S,
                spread(big),
                f"python -m bench.scale  (archspec.check(archspec.load(text)), {kind})",
            )
        )
        results.append(
            Result(
                f"scale: {kind} growth {large // 1000}k / {small // 1000}k",
                growth,
                "x",
                f"<= {MAX_GROWTH:g}x",
                growth <= MAX_GROWTH,
                f"{spread(big)} / {spread(little)}; ratio of medians "
                f"{median(big) / median(little):.2f}",
                "python -m bench.scale",
            )
        )
    results += command_line(texts, large, 1 if quick or smoke else 3, warmup)
    return results


def command_line(
    texts: dict[tuple[str, int], str], size: int, rounds: int, warmup: int
) -> list[Result]:
    """`archspec check` on the large files, as fresh processes (start-up and output included)."""
    results = []
    with tempfile.TemporaryDirectory() as folder:
        contenders = []
        for kind in CLI_KINDS:
            path = Path(folder) / f"{kind}_{size}.yaml"
            path.write_text(texts[kind, size], encoding="utf-8")
            contenders.append((kind, fresh_process([archspec_cli(), "check", str(path)])))
        times = interleaved(contenders, rounds=rounds, warmup=warmup)
    for kind in CLI_KINDS:
        print(f"  archspec check {kind}_{size}.yaml: {spread(times[kind])}")
        results.append(
            Result(
                f"scale: `archspec check` {kind} of {size:,} layers (fresh process)",
                median(times[kind]),
                "s",
                f"< {LIMIT_S:g} s",
                median(times[kind]) < LIMIT_S,
                spread(times[kind]),
                f"archspec check {kind}_{size}.yaml  (python -c 'from bench.specs import "
                f"{kind}; print({kind}({size}))' > {kind}_{size}.yaml)",
            )
        )
    return results


def profile(kind: str, size: int = LARGE, top: int = 25) -> None:
    """Print where checking one generated spec spends its time."""
    text = GENERATORS[kind](size)
    pipeline(GENERATORS[kind](100))()  # warm: compile the validators once
    profiler = cProfile.Profile()
    profiler.runcall(pipeline(text))
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of three")
    parser.add_argument("--profile", choices=sorted(GENERATORS), help="cProfile one spec")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile)
        return
    for result in run(args.quick):
        print(result.to_json_line())


if __name__ == "__main__":
    main()
