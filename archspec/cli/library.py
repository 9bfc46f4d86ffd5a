"""``archspec library [DIR]``: the table of a folder of specs (name, source, input, params, MACs).

The README's table of reference specs is this command's output, not typed by hand, so it cannot
drift from the specs: every number comes from the checker, and the source is the citation each
spec's ``doc:`` starts with. By convention a doc opens with its source, then a colon, then the
description ("Krizhevsky, Sutskever and Hinton (2012), as ...: grouped convolutions, ...").
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from archspec.cli.common import EXIT_OK
from archspec.diagnostics import Diagnostic, Location, SpecError

HEADER = ("Spec", "Source", "Input", "Params", "Trainable", "MACs")
NUMERIC = frozenset({3, 4, 5})
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")


@dataclass(frozen=True)
class LibraryEntry:
    """What the table shows of one spec."""

    path: Path
    name: str
    source: str
    input_shape: tuple[int, ...]
    total_params: int
    trainable_params: int
    macs: int

    def cells(self) -> tuple[str, ...]:
        """The row's text, numbers with thousands separators."""
        return (
            self.name,
            self.source,
            "x".join(str(d) for d in self.input_shape),
            f"{self.total_params:,}",
            f"{self.trainable_params:,}",
            f"{self.macs:,}",
        )


def source_of(doc: str) -> str:
    """The citation a doc opens with: its first sentence, up to its first ``': '``.

    A sentence ends at a full stop followed by a capital, so ``et al. (1998)`` stays whole.
    """
    text = " ".join(doc.split())
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".")
    return sentence.partition(": ")[0]


def collect(directory: str | Path) -> list[LibraryEntry]:
    """Load and check every ``*.yaml`` spec in ``directory`` (sorted by file name).

    Raises:
        SpecError: listing every problem of every spec (or that there is no spec at all).
    """
    from archspec.api import check, load

    folder = Path(directory)
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not paths:
        why = "no *.yaml spec in it" if folder.is_dir() else "not a directory"
        raise SpecError([Diagnostic(f"cannot list specs: {why}", Location(str(folder), 1, 1))])
    entries: list[LibraryEntry] = []
    problems: list[Diagnostic] = []
    for path in paths:
        try:
            report = check(load(path))
        except SpecError as err:
            problems += err.diagnostics
            continue
        entries.append(
            LibraryEntry(
                path,
                report.name,
                source_of(report.graph.doc),
                report.layer(report.graph.input.name).output_shape,
                report.total_params,
                report.trainable_params,
                report.macs,
            )
        )
    if problems:
        raise SpecError(problems)
    return entries


def to_markdown(entries: list[LibraryEntry]) -> str:
    """A GitHub table; each name links to its spec file."""

    def row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    rule = "|" + "|".join("---:" if i in NUMERIC else "---" for i in range(len(HEADER))) + "|"
    lines = [row(HEADER), rule]
    for entry in entries:
        name, *rest = entry.cells()
        lines.append(row((f"[{name}]({entry.path.as_posix()})", *rest)))
    return "\n".join(lines)


def to_text(entries: list[LibraryEntry]) -> str:
    """Aligned columns for a terminal, numbers right-aligned."""
    rows = [HEADER, *(entry.cells() for entry in entries)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if i in NUMERIC else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "-" * len(line(HEADER))
    return "\n".join([line(HEADER), rule, *(line(row) for row in rows[1:])])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory", nargs="?", default="specs", metavar="DIR", help="default: specs"
    )
    parser.add_argument("--format", choices=["text", "markdown"], default="text")


def run(args: argparse.Namespace) -> int:
    entries = collect(args.directory)
    print(to_markdown(entries) if args.format == "markdown" else to_text(entries))
    return EXIT_OK
