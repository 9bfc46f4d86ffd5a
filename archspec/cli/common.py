"""What every command shares: exit codes, the spec arguments, and loading a checked report."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from archspec.limits import DEFAULT_MAX_PARAMS

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """A command line that cannot be carried out (exit 2, like argparse's own errors)."""


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as a YAML scalar or flow list (``[227, 227, 3]``)."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    if len(raw) > 10_000:
        raise argparse.ArgumentTypeError("value too long")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str) and raw.strip():
        with contextlib.suppress(ValueError):
            value = float(raw) if "e" in raw.lower() else value
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


def check_targets(targets: Sequence[Path]) -> None:
    """Refuse output paths that cannot be written, before any work is done."""
    if len({t.resolve() for t in targets}) < len(targets):
        raise UsageError("-o and --save must name different files")
    for target in targets:
        if target.is_dir():
            raise UsageError(f"{target} is a directory")
        if not target.resolve().parent.is_dir():
            raise UsageError(f"cannot write {target}: no such directory {target.parent}")
