"""What every command shares: exit codes, the spec arguments, and loading a checked report."""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from archspec.limits import DEFAULT_MAX_PARAMS

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
_NON_FINITE = re.compile(r"([-+]?)\.(inf|Inf|INF|nan|NaN|NAN)")


class UsageError(Exception):
    """A command line that cannot be carried out (exit 2, like argparse's own errors)."""


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as YAML (a scalar or a flow list like ``[227, 227, 3]``)
    under the same limits and readings as a spec file (depth, aliases, size, YAML 1.2 numbers);
    text that is not YAML at all stays a string."""
    from archspec.diagnostics import SpecError
    from archspec.frontend.source import parse_yaml, to_python

    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    if len(raw) > 10_000:
        raise argparse.ArgumentTypeError("value too long")
    if not raw.strip():
        return key.strip(), ""
    non_finite = _NON_FINITE.fullmatch(raw.strip())
    if non_finite:  # refused where the param is declared, with the file's other checks
        return key.strip(), float(non_finite.group(1) + non_finite.group(2))
    try:
        value = to_python(parse_yaml(raw, "--set"))
    except SpecError as err:
        message = err.diagnostics[0].message
        if not message.startswith("invalid YAML"):
            raise argparse.ArgumentTypeError(f"{key.strip()}: {message}") from None
        value = raw
    return key.strip(), value


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """SPEC, ``--set KEY=VALUE`` (repeatable) and ``--max-params``."""
    parser.add_argument("spec", help="path to a YAML spec")
    parser.add_argument(
        "--set",
        action="append",
        type=parse_override,
        metavar="KEY=VALUE",
        help="override a spec param (repeatable), e.g. --set n_classes=1000",
    )
    parser.add_argument(
        "--max-params",
        type=int,
        default=DEFAULT_MAX_PARAMS,
        help=f"refuse models with more parameters (default {DEFAULT_MAX_PARAMS:,})",
    )


def load_report(args: argparse.Namespace) -> Any:
    """The checked report of ``args.spec`` with ``args.set`` applied."""
    from archspec.frontend.load import load
    from archspec.passes.check import check

    # NOTE: a Path, so that any file name is read as a file (never as YAML text), and the
    # overrides as a mapping, so that a param may be called anything (even `source`).
    graph = load(Path(args.spec), dict(args.set or []))
    return check(graph, max_params=args.max_params)


def check_targets(targets: Sequence[Path], inputs: Sequence[Path] = ()) -> None:
    """Refuse output paths that cannot or must not be written, before any work is done: the
    same file twice, an input (the spec itself), a directory, a device or FIFO, a directory
    that does not exist or cannot be written."""
    from archspec.util.files import UnwritableError, writable_target

    if len({t.resolve() for t in targets}) < len(targets):
        raise UsageError("-o and --save must name different files")
    for target in targets:
        for source in inputs:
            if _same_file(target, source):
                raise UsageError(f"refusing to overwrite the input {source} with an output")
        try:
            writable_target(target)
        except UnwritableError as err:
            raise UsageError(str(err)) from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Within the block, SIGTERM unwinds like Ctrl-C (exit 143), so that cleanup (temporary
    files beside an output) runs; outside the main thread it changes nothing."""

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
