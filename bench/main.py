"""Run every benchmark, each part in its own process, and print one table of ratios.

``bench/run`` calls this. Parts: ``check`` (target 1), ``scale`` (target 2), ``keras`` and
``torch`` (targets 3 and 4 for one framework each, so that the two never share a process).
Each part prints its measurements as it goes and hands its results back as ``RESULT {json}``
lines; the table at the end lists every ratio with its goal and the command that measures it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from importlib import metadata

from bench.common import CHILD_ENV, ROOT, Result

PARTS = {
    "check": ["bench.check_speed"],
    "scale": ["bench.scale"],
    "keras": ["bench.models", "--backend", "keras"],
    "torch": ["bench.models", "--backend", "torch"],
    "train-keras": ["bench.train_speed", "--backend", "keras"],
    "train-torch": ["bench.train_speed", "--backend", "torch"],
}


def run_part(name: str, quick: bool) -> tuple[list[Result], str | None]:
    """Run one part in a fresh process; its results, and its error output if it failed."""
    argv = [sys.executable, "-m", *PARTS[name], *(["--quick"] if quick else [])]
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=CHILD_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results = []
    for line in process.stdout:  # type: ignore[union-attr]
        result = Result.from_line(line)
        if result is None:
            print(line, end="", flush=True)
        else:
            results.append(result)
    errors = process.stderr.read()  # type: ignore[union-attr]
    if process.wait() != 0:
        return results, errors[-3000:]
    return results, None


def machine() -> str:
    """Date, cores, CPU model and versions: what the README records next to the ratios."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    versions = []
    for package in ("tensorflow-cpu", "tensorflow", "keras", "torch", "pydantic"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        f"{date}; {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {model}; "
        f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}; "
        f"Python {platform.python_version()}; {', '.join(versions)}"
    )


def table(results: list[Result]) -> str:
    """A Markdown table, ready for bench/README.md."""
    lines = [
        "| measurement | value | goal | met | detail | command |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        met = "yes" if r.ok else "**no**"
        lines.append(
            f"| {r.name} | {r.measured()} | {r.goal} | {met} | {r.detail} | `{r.command}` |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run", description="archspec's benchmarks: ratios measured side by side."
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds (1-2 minutes instead of about 4)"
    )
    parser.add_argument(
        "parts", nargs="*", metavar="PART", help=f"parts to run: {', '.join(PARTS)} (default all)"
    )
    args = parser.parse_args()
    unknown = [part for part in args.parts if part not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    start = time.perf_counter()
    print(f"machine: {machine()}", flush=True)
    results: list[Result] = []
    failures = []
    for name in args.parts or list(PARTS):
        found, error = run_part(name, args.quick)
        results += found
        if error is not None:
            failures.append(name)
            print(f"\n!! part {name!r} failed:\n{error}", file=sys.stderr, flush=True)
    print(f"\n== results ({'quick' if args.quick else 'full'} run, {machine()})\n")
    print(table(results))
    missed = [r.name for r in results if not r.ok]
    elapsed = time.perf_counter() - start
    print(f"\n{len(results) - len(missed)}/{len(results)} goals met in {elapsed:.0f} s", end="")
    print(f"; missed: {'; '.join(missed)}" if missed else "")
    if failures:
        print(f"parts that failed to run: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
