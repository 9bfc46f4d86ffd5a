"""``archspec import MODEL -o SPEC.yaml [--weights OUT.npz]``: a Keras (``.keras``), ONNX
(``.onnx``) or PyTorch (``.pt2``, from ``torch.export.save``) model back into a readable spec,
then the source compared with archspec's Keras and PyTorch builds of it on one batch."""

from __future__ import annotations

import argparse
import sys

from archspec.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError, check_targets


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", help="MODEL.keras, MODEL.onnx or MODEL.pt2")
    parser.add_argument(
        "-o", "--output", metavar="SPEC", help="write the spec here (default stdout)"
    )
    parser.add_argument(
        "--weights", metavar="OUT", help="write the weights (.npz, for build --load-weights)"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the comparison of outputs after import"
    )
    parser.add_argument(
        "--tolerance", type=float, default=1e-4, help="largest accepted output difference"
    )
    parser.add_argument(
        "--list-supported",
        action="store_true",
        help="list every Keras layer class, ONNX op and torch module/function that maps",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.list_supported:
        from archspec.importers.table import coverage_table

        print(coverage_table())
        return EXIT_OK
    if not args.model:
        raise UsageError("give a model to import (or --list-supported)")
    # never overwrite the model being read
    check_targets([Path(t) for t in (args.output, args.weights) if t], inputs=[Path(args.model)])
    from archspec.importers import ModelImportError, import_model

    try:
        result = import_model(Path(args.model), verify=not args.no_verify)
    except ModelImportError as err:
        # a layer's error is located in the model; a file's already names the file
        where = f"{args.model}: " if err.layer else "archspec: "
        print(f"{where}error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _write(args, result)
    report = result.report
    print(
        f"imported {report.name}: {len(report.layers) - 1} layers, {report.total_params:,} params",
        file=sys.stderr,
    )
    worst = 0.0
    for difference in result.comparison:
        print(difference.line(), file=sys.stderr)
        worst = max(worst, difference.max_diff / max(1.0, difference.max_value))
    if worst > args.tolerance:
        print(f"archspec: error: outputs differ beyond {args.tolerance:g}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _write(args: argparse.Namespace, result: object) -> None:
    """Spec and weights appear together once the import has succeeded, or neither does."""
    import contextlib

    from archspec.importers.weights import save_weights
    from archspec.util.files import atomic_path

    with contextlib.ExitStack() as stack:
        if args.weights:
            path = stack.enter_context(atomic_path(args.weights))
            save_weights(path, result.report, result.weights)  # type: ignore[attr-defined]
        if args.output:
            text = result.spec  # type: ignore[attr-defined]
            stack.enter_context(atomic_path(args.output)).write_text(text, encoding="utf-8")
    if not args.output:
        sys.stdout.write(result.spec)  # type: ignore[attr-defined]
