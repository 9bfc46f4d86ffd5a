"""``archspec check SPEC``: validate a spec, infer every shape, count every parameter.

Imports no framework: this is the command an editor or a script runs on every change.
"""

from __future__ import annotations

import argparse
import json

from archspec.cli.common import EXIT_OK, add_spec_arguments, load_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument(
        "--layout",
        choices=["channels_last", "channels_first"],
        default="channels_last",
        help="shape order in the text summary (channels_first = PyTorch's)",
    )


def run(args: argparse.Namespace) -> int:
    from archspec.display import summary

    report = load_report(args)
    if args.format == "json":
        print(json.dumps(summary.to_json(report), indent=2))
    else:
        summary.print_summary(report, layout=args.layout)
    return EXIT_OK
