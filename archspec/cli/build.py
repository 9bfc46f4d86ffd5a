"""``archspec build SPEC --backend B``: generated source, a live model checked against the IR,
and optionally the saved model."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from archspec.cli.common import (
    EXIT_OK,
    UsageError,
    add_spec_arguments,
    check_targets,
    load_report,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--backend", choices=["keras", "torch", "onnx"], required=True)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write source here (default stdout); with --backend onnx, the .onnx model",
    )
    parser.add_argument("--save", metavar="MODEL_FILE", help="save the model (.keras or .pt)")


def run(args: argparse.Namespace) -> int:
    from archspec.api import build
    from archspec.backends import get_backend
    from archspec.util.files import atomic_path

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
    from archspec.util.files import write_with

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
