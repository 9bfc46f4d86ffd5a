"""The ``archspec`` command line. Framework imports happen only inside backend commands."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from archspec.diagnostics import SpecError
from archspec.passes.check import DEFAULT_MAX_PARAMS

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as a YAML scalar or flow list (``[227, 227, 3]``)."""
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


def load_report(args: argparse.Namespace) -> Any:
    from archspec.api import check, load

    return check(load(args.spec, **dict(args.set or [])), max_params=args.max_params)


def cmd_check(args: argparse.Namespace) -> int:
    from archspec import summary

    report = load_report(args)
    if args.format == "json":
        print(json.dumps(summary.to_json(report), indent=2))
    else:
        print(summary.to_text(report, layout=args.layout))
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from archspec.api import build
    from archspec.backends import get_backend
    from archspec.files import write_text, write_with

    report = load_report(args)
    backend = get_backend(args.backend)
    source = backend.generate(report)
    model = build(report, backend=args.backend)
    if args.save:
        write_with(args.save, lambda path: backend.save(model, path))
    if args.output:
        write_text(args.output, source)
    else:
        sys.stdout.write(source)
    total, trainable = backend.count_params(model)
    print(
        f"built {report.name} with {args.backend}: {total:,} params ({trainable:,} trainable), "
        "matching the checker",
        file=sys.stderr,
    )
    return EXIT_OK


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
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


def register_check(commands: Any) -> None:
    check = commands.add_parser("check", help="validate a spec, infer shapes, count parameters")
    add_spec_arguments(check)
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument(
        "--layout",
        choices=["channels_last", "channels_first"],
        default="channels_last",
        help="shape order in the text summary (channels_first = PyTorch's)",
    )
    check.set_defaults(run=cmd_check)


def register_build(commands: Any) -> None:
    build = commands.add_parser("build", help="build the live model and write its source")
    add_spec_arguments(build)
    build.add_argument("--backend", choices=["keras", "torch"], required=True)
    build.add_argument(
        "-o", "--output", metavar="FILE.py", help="write source here (default stdout)"
    )
    build.add_argument("--save", metavar="MODEL_FILE", help="save the model (.keras or .pt)")
    build.set_defaults(run=cmd_build)


# Each entry adds one subcommand; commands beyond check and build live in archspec/commands/.
REGISTRARS: list[Callable[[Any], None]] = [register_check, register_build]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archspec",
        description="Compile a YAML network spec into a checked IR, live models and source.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for register in REGISTRARS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one subcommand; spec errors print ``FILE:LINE:COL: error: ...``, exit 2."""
    args = make_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except SpecError as err:
        for diagnostic in err.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
