"""The ``archspec`` command line: one module per command, registered in ``COMMANDS``.

Each command module ``archspec.cli.<name>`` (``<name>_`` for a Python keyword, e.g.
``import_``) defines ``add_arguments(parser)`` and ``run(args) -> exit status``. Only the chosen
command's module is imported, so ``archspec --help`` and ``archspec check`` load no code they do
not use (and never a framework).
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import os
import sys
from collections.abc import Sequence

from archspec import __version__
from archspec.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, UsageError
from archspec.util import startup

# name -> one-line help, in the order `archspec --help` lists them. Adding a command = a module
# in this package + one line here.
COMMANDS: dict[str, str] = {
    "check": "validate a spec, infer shapes, count parameters",
    "build": "build the live model and write its source",
    "train": "train the network as the spec's training recipe says (keras or torch)",
    "verify": "build Keras and PyTorch models from one spec and compare them layer by layer",
    "graph": "draw the network (svg, png, pdf via graphviz's dot; or DOT text)",
    "ops": "list the ops a spec may use, or describe one",
    "schema": "print the JSON Schema of the spec language (for editors)",
    "init": "write a starter spec (with a schema line editors complete from)",
    "lsp": "run the language server (stdio) for editors: diagnostics, hover, completion",
    "library": "tabulate a folder of specs: source, input, params, MACs",
    "import": "read a Keras, ONNX or PyTorch model back into a spec (and its weights)",
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """The first argument that names a command (the only one whose module is imported)."""
    return next((arg for arg in argv if arg in COMMANDS), None)


def module_name(command: str) -> str:
    """The module of a command: its name, with ``_`` after a Python keyword (``import_``)."""
    return command + "_" if keyword.iskeyword(command) else command


def make_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; the arguments of the command chosen in ``argv`` are filled in."""
    parser = argparse.ArgumentParser(
        prog="archspec",
        description="Compile a YAML network spec into a checked IR, live models and source.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = chosen_command(argv)
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        if name == chosen:
            module = importlib.import_module(f"archspec.cli.{module_name(name)}")
            module.add_arguments(sub)
            # A command module may set QUICK_EXIT: its process ends without clean-up.
            sub.set_defaults(run=module.run, quick_exit=getattr(module, "QUICK_EXIT", False))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one subcommand; spec errors print ``FILE:LINE:COL: error: ...``, exit 2.

    No traceback reaches the user: other failures print one ``archspec: error:`` line (set
    ``ARCHSPEC_DEBUG=1`` to see the traceback of an internal error). Without ``argv`` (the
    console script, ``python -m archspec``) it owns the process: see ``archspec.util.startup``.
    """
    entry = argv is None  # the console script or `python -m archspec`: the process is ours
    argv = sys.argv[1:] if entry else list(argv)  # type: ignore[arg-type]
    if entry:
        startup.begin()
    args = make_parser(argv).parse_args(argv)
    quick = getattr(args, "quick_exit", False)
    if entry:
        startup.settle(quick)
    status = _run(args)
    if entry and quick:
        startup.end_now(status)
    return status


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command; every failure becomes a message and an exit status."""
    from archspec.diagnostics import SpecError

    try:
        return args.run(args)
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
    except Exception as err:
        return report_failure(err)


def report_failure(err: Exception) -> int:
    """One ``archspec: error:`` line for an expected failure, or an internal-error line."""
    from archspec.backends import BackendError
    from archspec.backends.frameworks import missing_framework

    if isinstance(err, BackendError | OSError):
        print(f"archspec: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    missing = missing_framework(err)  # an install step, not a bug
    if missing:
        print(f"archspec: error: {missing}", file=sys.stderr)
        return EXIT_FAILED
    if os.environ.get("ARCHSPEC_DEBUG"):
        raise err
    print(
        f"archspec: internal error: {type(err).__name__}: {err} (a bug: please report it; "
        "ARCHSPEC_DEBUG=1 shows the traceback)",
        file=sys.stderr,
    )
    return EXIT_FAILED
