"""``archspec train`` past one process: the launch options, and the torchrun route.

``--backend torch --nproc N`` (and ``--nnodes``, ``--node-rank``, ``--master-addr``,
``--master-port``) writes the generated training script into RUN_DIR and runs it through
torchrun, unchanged: the script reads its rank from the environment. ``--backend keras
--devices N`` trains in this process under MirroredStrategy over N local devices. Keras over
several hosts is refused (keras-team/keras#20585). Not a command: ``cli/train.py`` calls it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from archspec.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """torchrun's options (PyTorch) and ``--devices`` (Keras)."""
    from archspec.backends.torch import launch

    launch.add_arguments(parser)
    parser.add_argument(
        "--devices",
        type=int,
        metavar="N",
        help="keras: MirroredStrategy over N local devices (GPUs, else logical CPU devices)",
    )


def wants_torchrun(args: argparse.Namespace) -> bool:
    """Whether this run goes through torchrun (checks the options first)."""
    check_arguments(args)
    return args.backend == "torch" and ((args.nproc or 1) > 1 or args.nnodes > 1)


def check_arguments(args: argparse.Namespace) -> None:
    """Options that belong to the other backend, or Keras over several hosts: refused."""
    if args.backend == "keras":
        if args.nnodes > 1:
            from archspec.backends.keras.distributed import MULTI_HOST_REFUSAL

            raise UsageError(MULTI_HOST_REFUSAL)
        if args.nproc:
            raise UsageError("--nproc is PyTorch's (DDP); with --backend keras use --devices N")
    elif args.devices:
        raise UsageError(
            "--devices is Keras's (MirroredStrategy); with --backend torch use --nproc N"
        )


def enter_devices_scope(args: argparse.Namespace) -> None:
    """``--devices N``: enter a MirroredStrategy's scope for the rest of this command.

    Made before TensorFlow starts (N logical CPU devices when there is no GPU); the model is
    then built, compiled and fitted under it. A no-op without ``--devices``.
    """
    if args.backend != "keras" or not args.devices:
        return
    from archspec.backends.keras.distributed import strategy

    scope = strategy(args.devices).scope()
    scope.__enter__()  # left at the process's exit
    # NOTE: keep it alive: a dropped scope's generator-based parts would exit when collected
    _ENTERED.append(scope)


_ENTERED: list[Any] = []


def run_torchrun(args: argparse.Namespace, run_dir: str) -> int:
    """Write the generated script into ``run_dir`` and run it on this node's ranks."""
    from archspec.backends.torch import launch
    from archspec.frontend.load import load
    from archspec.passes.check import check
    from archspec.training.distributed import check_batch_size
    from archspec.training.load import load_recipe, split_overrides
    from archspec.training.run import ENV_FINGERPRINT, fingerprint, training_source
    from archspec.training.runtime import ResumeMismatch, check_resume

    settings = launch.from_args(args)
    if problems := settings.problems():
        raise UsageError("; ".join(problems))
    spec_overrides, keys = split_overrides(args.set or [])
    keys.update({k: v for k, v in (("epochs", args.epochs), ("seed", args.seed)) if v is not None})
    report = check(load(Path(args.spec), spec_overrides), max_params=args.max_params)
    loaded = load_recipe(report.graph, args.recipe, keys)
    if problem := check_batch_size(loaded.recipe.batch_size, settings.world_size):
        raise loaded.error(problem, "batch_size")
    data = args.data or (loaded.recipe.data.path if loaded.recipe.data else None)
    if data is None:
        raise loaded.error("no data: give --data PATH or training.data.path", "")
    folder = Path(run_dir)
    marks = fingerprint(report, loaded.recipe)
    if args.resume:
        try:
            check_resume(folder, marks)
        except ResumeMismatch as err:
            print(f"archspec: error: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"train_{report.name}.py"
    script.write_text(training_source(report, loaded.recipe, "torch"), encoding="utf-8")
    entry = [str(script), str(data), str(folder), *(["--resume"] if args.resume else [])]
    os.environ[ENV_FINGERPRINT] = json.dumps(marks)  # the workers' state.json keeps it
    try:
        launch.run(settings, entry)
    except launch.LaunchError as err:
        print(f"archspec: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"archspec: interrupted; resume with --resume {run_dir}", file=sys.stderr)
        return 130
    finally:
        os.environ.pop(ENV_FINGERPRINT, None)
    print(
        f"trained {report.name} on {settings.world_size} processes; wrote {folder}", file=sys.stderr
    )
    return EXIT_OK
