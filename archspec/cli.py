"""The ``archspec`` command line. Framework imports happen only inside backend commands."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from archspec.commands import graph, library, ops, schema, verify
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
    from archspec.api import check
    from archspec.spec.load import load

    # NOTE: a Path, so that any file name is read as a file (never as YAML text), and the
    # overrides as a mapping, so that a param may be called anything (even `source`).
    graph = load(Path(args.spec), dict(args.set or []))
    return check(graph, max_params=args.max_params)


def cmd_check(args: argparse.Namespace) -> int:
    from archspec import summary

    report = load_report(args)
    if args.format == "json":
        print(json.dumps(summary.to_json(report), indent=2))
    else:
        summary.print_summary(report, layout=args.layout)
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from archspec.api import build
    from archspec.backends import get_backend
    from archspec.files import atomic_path

    targets = [Path(t) for t in (args.output, args.save) if t]
    check_targets(targets)  # before the slow part: fail fast on a path we could not write
    report = load_report(args)
    backend = get_backend(args.backend)
    if getattr(backend, "MODEL_FILE_ONLY", False):  # onnx: no source, -o names the model
        return build_model_file(args, report, backend)
    source = backend.generate(report)
    model = build(report, backend=args.backend)
    # Both files appear together once everything has succeeded, or neither does; a failure
    # leaves any existing file untouched (atomic_path writes beside it, then renames).
    with contextlib.ExitStack() as stack:
        if args.save:
            backend.save(model, stack.enter_context(atomic_path(args.save)))
        if args.output:
            stack.enter_context(atomic_path(args.output)).write_text(source, encoding="utf-8")
    if not args.output:
        sys.stdout.write(source)
    total, trainable = backend.count_params(model)
    print(
        f"built {report.name} with {args.backend}: {total:,} params ({trainable:,} trainable), "
        "matching the checker",
        file=sys.stderr,
    )
    return EXIT_OK


def build_model_file(args: argparse.Namespace, report: Any, backend: Any) -> int:
    """``build`` for a backend that writes a model file and no source (onnx)."""
    from archspec.api import build
    from archspec.files import write_with

    if args.output and args.save:
        raise UsageError(f"--backend {args.backend} writes one model file: give -o FILE only")
    target = args.output or args.save
    if not target:
        raise UsageError(f"--backend {args.backend} writes a model file: give -o FILE")
    model = build(report, backend=args.backend)
    write_with(target, lambda path: backend.save(model, path))
    total, trainable = backend.count_params(model)
    print(
        f"built {report.name} with {args.backend}: {total:,} params ({trainable:,} trainable), "
        f"matching the checker; wrote {target}",
        file=sys.stderr,
    )
    return EXIT_OK


class UsageError(Exception):
    """A command line that cannot be carried out (exit 2, like argparse's own errors)."""


def check_targets(targets: Sequence[Path]) -> None:
    """Refuse output paths that cannot be written, before any work is done."""
    if len({t.resolve() for t in targets}) < len(targets):
        raise UsageError("-o and --save must name different files")
    for target in targets:
        if target.is_dir():
            raise UsageError(f"{target} is a directory")
        if not target.resolve().parent.is_dir():
            raise UsageError(f"cannot write {target}: no such directory {target.parent}")


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
    build.add_argument("--backend", choices=["keras", "torch", "onnx"], required=True)
    build.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write source here (default stdout); with --backend onnx, the .onnx model",
    )
    build.add_argument("--save", metavar="MODEL_FILE", help="save the model (.keras or .pt)")
    build.set_defaults(run=cmd_build)


# Each entry adds one subcommand; commands beyond check and build live in archspec/commands/.
REGISTRARS: list[Callable[[Any], None]] = [
    register_check,
    register_build,
    graph.register,
    schema.register,
    library.register,
    ops.register,
    verify.register,
]


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
    """Entry point: run one subcommand; spec errors print ``FILE:LINE:COL: error: ...``, exit 2.

    No traceback reaches the user: other failures print one ``archspec: error:`` line (set
    ``ARCHSPEC_DEBUG=1`` to see the traceback of an internal error).
    """
    from archspec.backends import BackendError

    args = make_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except SpecError as err:
        for diagnostic in err.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as err:
        print(f"archspec: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `archspec build ... | head`: the reader has gone
        sys.stderr.close()
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except (BackendError, OSError) as err:
        print(f"archspec: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as err:
        if os.environ.get("ARCHSPEC_DEBUG"):
            raise
        print(
            f"archspec: internal error: {type(err).__name__}: {err} (a bug: please report it; "
            "ARCHSPEC_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
