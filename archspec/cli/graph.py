"""``archspec graph SPEC [-o FILE]``: draw the network (svg, png, pdf via graphviz; or DOT)."""

from __future__ import annotations

import argparse
import sys

from archspec.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    add_spec_arguments,
    load_report,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="FILE.svg, .png or .pdf (needs graphviz's dot), or .dot; default: DOT on stdout",
    )
    parser.add_argument(
        "--layout",
        choices=["channels_last", "channels_first"],
        default="channels_last",
        help="shape order in the boxes (channels_first = PyTorch's)",
    )
    parser.add_argument(
        "--rankdir", choices=["TB", "LR"], default="TB", help="top-to-bottom or left-to-right"
    )


def run(args: argparse.Namespace) -> int:
    from archspec.display.diagram import GraphError, output_format, to_dot, write

    if args.output is not None:
        try:
            output_format(args.output)
        except GraphError as err:
            print(f"archspec graph: error: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
    report = load_report(args)
    if args.output is None:
        sys.stdout.write(to_dot(report, args.layout, args.rankdir))
        return EXIT_OK
    try:
        write(report, args.output, args.layout, args.rankdir)
    except (GraphError, OSError) as err:
        print(f"archspec graph: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {args.output} ({len(report.layers)} layers)", file=sys.stderr)
    return EXIT_OK
