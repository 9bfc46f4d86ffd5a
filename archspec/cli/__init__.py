"""The ``archspec`` command line: one module per command, registered in ``COMMANDS``.

Each command module ``archspec.cli.<name>`` (``<name>_`` for a Python keyword, e.g.
``import_``) defines ``add_arguments(parser)`` and ``run(args) -> exit status``. Only the chosen command's module is imported, so ``archspec
--help`` and ``archspec check`` load no code they do not use (and never a framework).
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import os
import sys
from collections.abc import Sequence

from archspec.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, UsageError

# name -> one-line help, in the order `archspec --help` lists them. Adding a command = a module
# in this package + one line here.
COMMANDS: dict[str, str] = {
    "check": "validate a spec, infer shapes, count parameters",
    "build": "build the live model and write its source",
    "verify": "build Keras and PyTorch models from one spec and compare them layer by layer",
    "graph": "draw the network (svg, png, pdf via graphviz's dot; or DOT text)",
    "ops": "list the ops a spec may use, or describe one",
    "schema": "print the JSON Schema of the spec language (for editors)",
    "library": "tabulate a folder of specs: source, input, params, MACs",
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
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = chosen_command(argv)
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        if name == chosen:
            module = importlib.import_module(f"archspec.cli.{module_name(name)}")
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one subcommand; spec errors print ``FILE:LINE:COL: error: ...``, exit 2.

    No traceback reaches the user: other failures print one ``archspec: error:`` line (set
    ``ARCHSPEC_DEBUG=1`` to see the traceback of an internal error).
    """
    from archspec.diagnostics import SpecError

    argv = sys.argv[1:] if argv is None else list(argv)
    args = make_parser(argv).parse_args(argv)
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

    if isinstance(err, BackendError | OSError):
        print(f"archspec: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    if os.environ.get("ARCHSPEC_DEBUG"):
        raise err
    print(
        f"archspec: internal error: {type(err).__name__}: {err} (a bug: please report it; "
        "ARCHSPEC_DEBUG=1 shows the traceback)",
        file=sys.stderr,
    )
    return EXIT_FAILED
