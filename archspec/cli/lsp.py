"""``archspec lsp``: a language server for spec files over stdio (for any LSP editor)."""

from __future__ import annotations

import argparse

from archspec import __version__
from archspec.cli.common import EXIT_OK, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio", action="store_true", help="talk over stdin/stdout (the default and only way)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        from archspec.lsp.server import serve
    except ImportError as err:  # pygls is the `lsp` extra
        raise UsageError(f"{err}; install it with: pip install 'archspec[lsp]'") from None
    serve(__version__)
    return EXIT_OK
