"""``archspec check SPEC``: validate a spec, infer every shape, count every parameter.

Imports no framework: this is the command an editor or a script runs on every change.
"""

from __future__ import annotations

import argparse

from archspec.cli.common import EXIT_OK, add_spec_arguments, load_report

# The process ends once the summary is flushed (archspec.util.startup).
QUICK_EXIT = True


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

    if args.format == "json":
        import json

        from archspec.diagnostics import SpecError

        try:
            report = load_report(args)
        except SpecError as err:
            # Scripts get the problems as JSON too (stdout), besides the usual lines (stderr).
            problems = [d.to_json() for d in err.diagnostics]
            print(json.dumps({"ok": False, "diagnostics": problems}, indent=2))
            raise
        print(json.dumps(summary.to_json(report), indent=2))
        return EXIT_OK
    summary.print_summary(load_report(args), layout=args.layout)
    return EXIT_OK
