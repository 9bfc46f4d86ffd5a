"""``archspec build SPEC --backend B``: generated source, a live model checked against the IR,
and optionally the saved model.

Every output path is checked before any work (not the spec itself, not a device, a writable
directory, the extension the backend writes), and files appear only once everything has
succeeded. ``--no-model`` writes the source alone, with no framework installed.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from pathlib import Path
from typing import Any

from archspec.cli.common import (
    EXIT_OK,
    UsageError,
    add_spec_arguments,
    check_targets,
    load_report,
    terminate_cleanly,
)

# What to try next with what was written: {backend: (with a source file, with a model file)}.
NEXT = {
    "keras": (
        "python -c \"import runpy; runpy.run_path('{source}')['build_model']().summary()\"",
        "python -c \"import archspec.backends.keras as k; k.load('{model}').summary()\"",
    ),
    "torch": (
        "python -c \"import runpy; print(runpy.run_path('{source}')['build_model']())\"",
        "python -c \"import torch; print(list(torch.load('{model}', weights_only=True)))\"",
    ),
    "onnx": (
        "",
        "python -c \"import onnxruntime as rt; print(rt.InferenceSession('{model}')"
        '.get_inputs()[0])"',
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--backend", choices=["keras", "torch", "onnx"], required=True)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write source here (.py; default stdout); with --backend onnx, the .onnx model",
    )
    parser.add_argument(
        "--save", metavar="MODEL_FILE", help="save the model (.keras for keras, .pt for torch)"
    )
    parser.add_argument(
        "--no-model",
        action="store_true",
        help="write the source only: build no model (needs no framework installed)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="draw the initial weights from seed N, the same in every backend",
    )
    parser.add_argument(
        "--training",
        action="store_true",
        help="write the training script of the spec's recipe instead (what archspec train runs)",
    )
    parser.add_argument(
        "--load-weights",
        metavar="WEIGHTS",
        help="load the weights `archspec import --weights` wrote (.npz) into the model",
    )


def run(args: argparse.Namespace) -> int:
    from archspec.api import build
    from archspec.backends import get_backend
    from archspec.backends.frameworks import framework_needed
    from archspec.util.files import atomic_path

    with framework_needed(args.backend):
        backend = get_backend(args.backend)
    model_only = getattr(backend, "MODEL_FILE_ONLY", False)  # onnx: -o names the model
    check_arguments(args, backend, model_only)
    targets = [Path(t) for t in (args.output, args.save) if t]
    # Before the slow part: fail fast on a path we could not or must not write.
    check_targets(targets, inputs=[Path(args.spec)])
    if args.training:
        return write_training(args)
    report = load_report(args)
    if model_only:
        return build_model_file(args, report, backend)
    with framework_needed(args.backend):
        source = backend.generate(report)
    if args.no_model:
        return write_source_only(args, report, source)
    # Both files appear together once everything has succeeded, or neither does; a failure
    # (or SIGTERM) leaves any existing file untouched (atomic_path writes beside it, then
    # renames) and no temporary file behind.
    with terminate_cleanly():
        model = build(report, backend=args.backend, seed=args.seed)
        if getattr(args, "load_weights", None):
            from archspec.importers.weights import load_weights

            load_weights(model, args.load_weights, report)
        with contextlib.ExitStack() as stack, framework_needed(args.backend):
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
    report_written(args, args.output, args.save)
    custom = re.findall(r"^class (\w+)\(layers\.", source, re.MULTILINE)  # Keras's own classes
    if args.save and custom:
        print(
            f"note: {args.save} uses archspec's custom layers ({', '.join(custom)}): load it with "
            "archspec.backends.keras.load(path), not plain keras.models.load_model",
            file=sys.stderr,
        )
    return EXIT_OK


def check_arguments(args: argparse.Namespace, backend: Any, model_only: bool) -> None:
    """Refuse combinations that cannot be carried out, and file names whose extension is not
    what this backend writes (one rule: each backend declares ``FILE_SUFFIXES``)."""
    if args.no_model and (args.save or model_only):
        what = "--save" if args.save else f"--backend {args.backend} (it writes no source)"
        raise UsageError(f"--no-model writes source only: it cannot go with {what}")
    if args.no_model and args.seed is not None:
        raise UsageError("--seed sets a model's weights: it cannot go with --no-model")
    if model_only:
        if args.output and args.save:
            raise UsageError(f"--backend {args.backend} writes one model file: give -o FILE only")
        if not (args.output or args.save):
            raise UsageError(f"--backend {args.backend} writes a model file: give -o FILE")
    suffixes = getattr(backend, "FILE_SUFFIXES", None)
    if suffixes is None:
        return
    wanted = [
        (args.output, "model" if model_only else "source", "-o"),
        (args.save, "model", "--save"),
    ]
    for path, kind, option in wanted:
        allowed = suffixes.get(kind, ())
        suffix = Path(path).suffix if path else ""
        if path and suffix not in allowed:
            found = f"not {suffix}" if suffix else "and this name has no extension"
            names = " or ".join(allowed)
            raise UsageError(
                f"{option} {path}: --backend {args.backend} writes {kind} files as {names}, {found}"
            )


def write_source_only(args: argparse.Namespace, report: Any, source: str) -> int:
    """``--no-model``: the generated source, with no framework imported."""
    from archspec.util.files import write_text

    if args.output:
        write_text(args.output, source)
    else:
        sys.stdout.write(source)
    print(f"generated {report.name} for {args.backend} (no model built)", file=sys.stderr)
    report_written(args, args.output, None)
    return EXIT_OK


def build_model_file(args: argparse.Namespace, report: Any, backend: Any) -> int:
    """``build`` for a backend that writes a model file and no source (onnx)."""
    from archspec.api import build
    from archspec.backends.frameworks import framework_needed
    from archspec.util.files import write_with

    target = args.output or args.save
    with terminate_cleanly():
        model = build(report, backend=args.backend, seed=args.seed)
        if getattr(args, "load_weights", None):
            from archspec.importers.weights import load_weights

            load_weights(model, args.load_weights, report)
        with framework_needed(args.backend):
            write_with(target, lambda path: backend.save(model, path))
    total, trainable = backend.count_params(model)
    print(
        f"built {report.name} with {args.backend}: {total:,} params ({trainable:,} trainable), "
        "matching the checker",
        file=sys.stderr,
    )
    report_written(args, None, target)
    return EXIT_OK


def report_written(args: argparse.Namespace, source: str | None, model: str | None) -> None:
    """Which files were written, and a command to try them with."""
    written = [f"{path} ({what})" for path, what in ((source, "source"), (model, "model")) if path]
    if not written:
        return
    print(f"wrote {', '.join(written)}", file=sys.stderr)
    with_source, with_model = NEXT.get(args.backend, ("", ""))
    command = (with_model if model else with_source).format(source=source, model=model)
    if command:
        print(f"next: {command}", file=sys.stderr)


def write_training(args: argparse.Namespace) -> int:
    """``--training``: the standalone training script (no model is built)."""
    from archspec.frontend.load import load
    from archspec.passes.check import check
    from archspec.training.load import load_recipe, split_overrides
    from archspec.training.run import training_source
    from archspec.util.files import atomic_path

    spec_overrides, recipe_overrides = split_overrides(args.set or [])
    report = check(load(Path(args.spec), spec_overrides), max_params=args.max_params)
    if args.seed is not None:
        recipe_overrides["seed"] = args.seed
    recipe = load_recipe(report.graph, overrides=recipe_overrides).recipe
    source = training_source(report, recipe, args.backend)
    if args.output:
        with atomic_path(args.output) as path:
            path.write_text(source, encoding="utf-8")
    else:
        sys.stdout.write(source)
    return EXIT_OK
