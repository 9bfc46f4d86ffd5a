"""``archspec ops [OP]``: list the ops a spec may use, or describe one."""

from __future__ import annotations

import argparse
import sys

from archspec.cli.common import EXIT_BAD_INPUT, EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "op",
        nargs="?",
        help="an op name, e.g. conv2d, a topic: expressions, blocks, outputs, or the training "
        "recipe: training, optimizer.adam, schedule.cosine, callback.early_stopping...",
    )


def run(args: argparse.Namespace) -> int:
    from archspec.diagnostics import did_you_mean
    from archspec.frontend.language import TOPICS
    from archspec.ops import OPS
    from archspec.ops.reference import list_text, op_text
    from archspec.training import reference as recipe_reference

    if args.op is None:
        print(list_text())
        print(f"\nThe language: archspec ops {'|'.join(TOPICS)}")
        print(f"The training recipe: archspec ops {recipe_reference.TOPIC}")
        return EXIT_OK
    if args.op in TOPICS:
        print(TOPICS[args.op]().rstrip())
        return EXIT_OK
    if args.op == recipe_reference.TOPIC:
        print(recipe_reference.list_text())
        return EXIT_OK
    if args.op in recipe_reference.entries():
        print(recipe_reference.entry_text(args.op))
        return EXIT_OK
    if "." in args.op:  # a recipe entry, misspelt
        hint = did_you_mean(args.op, recipe_reference.entries())
        message = f"archspec ops: error: unknown recipe entry '{args.op}'"
        print(
            message + (f" ({hint})" if hint else " (archspec ops training lists them)"),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if args.op not in OPS:
        hint = did_you_mean(args.op, OPS)
        message = f"archspec ops: error: unknown op '{args.op}'"
        print(message + (f" ({hint})" if hint else " (archspec ops lists them)"), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(op_text(args.op))
    return EXIT_OK
