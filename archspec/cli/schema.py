"""``archspec schema [-o FILE]``: the JSON Schema of the spec language, for editors."""

from __future__ import annotations

import argparse
import sys

from archspec.cli.common import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write it here (default stdout)")


def run(args: argparse.Namespace) -> int:
    from archspec.frontend.schema import schema_text

    if args.output:
        from archspec.util.files import write_text

        write_text(args.output, schema_text())
    else:
        sys.stdout.write(schema_text())
    return EXIT_OK
