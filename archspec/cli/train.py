"""``archspec train SPEC --backend keras|torch -o RUN_DIR``: train as the spec's recipe says.

Runs the very script ``archspec build --training`` writes. Bad recipes and data exit 2 with
located errors; a NaN loss exits 1 with a message; Ctrl-C leaves RUN_DIR resumable.
"""

from __future__ import annotations

import argparse
import sys

from archspec.cli import distributed
from archspec.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, add_spec_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--backend", choices=["keras", "torch"], required=True)
    parser.add_argument("--data", metavar="PATH", help="an .npz (x, y) or a class-per-folder tree")
    parser.add_argument("--epochs", type=int, help="override training.epochs")
    parser.add_argument("--seed", type=int, help="data order, augmentation and initial weights")
    parser.add_argument("--recipe", metavar="FILE", help="a recipe file instead of training:")
    parser.add_argument("-o", "--output", metavar="RUN_DIR", default=None, help="run directory")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run saved there")
    distributed.add_arguments(parser)  # --nproc, --nnodes, ... (torchrun); --devices (keras)


def run(args: argparse.Namespace) -> int:
    from archspec.cli.common import UsageError
    from archspec.frontend.load import load
    from archspec.passes.check import check
    from archspec.training.load import split_overrides
    from archspec.training.run import train
    from archspec.training.runtime import NonFiniteLoss, ResumeMismatch

    run_dir = args.resume or args.output
    if not run_dir:
        raise UsageError("give -o RUN_DIR (or --resume RUN_DIR)")
    if distributed.wants_torchrun(args):  # several processes: the script under torchrun
        return distributed.run_torchrun(args, run_dir)
    spec_overrides, recipe_overrides = split_overrides(args.set or [])
    from pathlib import Path

    report = check(load(Path(args.spec), spec_overrides), max_params=args.max_params)
    distributed.enter_devices_scope(args)  # keras --devices N: MirroredStrategy
    try:
        history = train(
            report,
            args.backend,
            args.data,
            run_dir,
            epochs=args.epochs,
            seed=args.seed,
            recipe=args.recipe,
            overrides=recipe_overrides,
            resume=bool(args.resume),
        )
    except ResumeMismatch as err:
        print(f"archspec: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NonFiniteLoss as err:
        print(f"archspec: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(
            f"archspec: interrupted; the last finished epoch is saved: resume with "
            f"--resume {run_dir}",
            file=sys.stderr,
        )
        return 130
    print(f"trained {report.name} for {len(history)} epochs; wrote {run_dir}", file=sys.stderr)
    return EXIT_OK
