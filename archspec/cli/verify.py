"""``archspec verify SPEC``: build Keras and PyTorch models from one spec, compare per layer."""

from __future__ import annotations

import argparse
import sys

from archspec.cli.common import EXIT_FAILED, EXIT_OK, add_spec_arguments, load_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from archspec import verify

    parser.description = (verify.__doc__ or "").split("\n\n")[0] or None
    add_spec_arguments(parser)
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-4,
        help="largest absolute difference allowed at the model output (default 1e-4)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and batch")
    parser.add_argument("--batch", type=int, default=2, help="batch size (default 2)")


def run(args: argparse.Namespace) -> int:
    from archspec.verify import compare, table

    report = load_report(args)
    diffs = compare(report, seed=args.seed, batch_size=args.batch)
    print(table(diffs, args.tolerance))
    worst = max(d.max_diff for d in diffs if d.name in report.graph.outputs)
    ok = worst <= args.tolerance
    verdict = "OK" if ok else "FAILED"
    print(
        f"\nmodel output: max |keras - torch| = {worst:.3g} (tolerance {args.tolerance:g}, "
        f"seed {args.seed}, batch {args.batch}): {verdict}"
    )
    first = next((d for d in diffs if d.diverges(args.tolerance)), None)
    if first is not None:
        print(f"first layer that differs: {first.name} ({first.kind})", file=sys.stderr)
    return EXIT_OK if ok else EXIT_FAILED
