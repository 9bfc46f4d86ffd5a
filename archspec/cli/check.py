"""``archspec check SPEC``: validate a spec, infer every shape, count every parameter.

Imports no framework: this is the command an editor or a script runs on every change.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

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
        found = summary.to_json(report)
        found["keras_custom_layers"] = keras_custom_layers(report)
        print(json.dumps(found, indent=2))
        return EXIT_OK
    report = load_report(args)
    summary.print_summary(report, layout=args.layout)
    custom = keras_custom_layers(report)
    if custom:
        note = (
            f"Keras: needs archspec's custom layers {', '.join(custom)}; a saved .keras file "
            "loads after `import archspec.backends.keras.custom_layers`"
        )
        print(textwrap.fill(note, width=100, break_on_hyphens=False))
    return EXIT_OK


def keras_custom_layers(report: Any) -> list[str]:
    """The custom Keras layers this network needs, read off the Keras lowering (no Keras
    import): every other op lowers to a stock layer."""
    from archspec.backends.keras.source import custom_layers

    return custom_layers(report)
