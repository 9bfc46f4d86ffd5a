"""Located diagnostics: the compiler reports problems as values, the CLI prints them.

Every problem carries where it was written (``FILE:LINE:COL``) and the spec path of the value at
fault (``layers[3].conv2d.filters``), so a user can jump straight to it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from archspec.limits import MAX_ERRORS

# Beyond this many candidate names, "did you mean" looks up edits instead of scanning names.
_FEW_CHOICES = 200
_CUTOFF = 0.6


@dataclass(frozen=True)
class Location:
    """A 1-based position in a source file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a spec: where, at which spec path, what, and optionally how to fix it."""

    message: str
    location: Location
    path: str = ""
    hint: str = ""
    context: str = ""  # e.g. "in block 'res', instance 'res1'": where an inlined copy failed

    def format(self) -> str:
        """Render as ``FILE:LINE:COL: error: PATH: MESSAGE (HINT) [CONTEXT]`` on one line."""
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.hint:
            text += f" ({self.hint})"
        if self.context:
            text += f" [{self.context}]"
        text = " ".join(text.split())  # one line per problem, whatever the message held
        return f"{self.location}: error: {text}"

    def to_json(self) -> dict[str, Any]:
        """The diagnostic for scripts (``archspec check --format json``)."""
        return {
            "severity": "error",
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.col,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
            "context": self.context,
        }


class SpecError(Exception):
    """Raised at the API boundary with every diagnostic collected so far."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = unique_diagnostics(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def unique_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Each problem once (a block used three times fails three times at the same place), and
    at most ``MAX_ERRORS`` of them, then one "too many errors" line."""
    found: dict[tuple[Location, str], Diagnostic] = {}
    for diagnostic in diagnostics:
        found.setdefault((diagnostic.location, diagnostic.message), diagnostic)
    unique = list(found.values())
    if len(unique) > MAX_ERRORS:
        last = unique[MAX_ERRORS - 1].location
        unique = [*unique[: MAX_ERRORS - 1], too_many_errors(last)]
    return unique


def too_many_errors(where: Location) -> Diagnostic:
    """The last diagnostic when a spec has more problems than are worth reporting."""
    return Diagnostic(f"too many errors ({MAX_ERRORS}); stopping here", where)


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """A ``did you mean 'x'?`` hint for a misspelt name, or an empty string.

    Case-insensitive (``Relu`` and ``ReLU`` suggest ``relu``). Among a few names, difflib's
    closest match; among many (a 10,000-layer spec), only names one edit away, found by
    looking the word's edits up (cost independent of the number of names, as spell checkers
    do), so that hints stay cheap however large the spec.
    """
    if not isinstance(word, str) or not word:
        return ""
    lowered: dict[str, str] = {}
    for choice in choices:
        lowered.setdefault(choice.lower(), choice)
    key = word.lower()
    if key in lowered:
        return f"did you mean '{lowered[key]}'?" if lowered[key] != word else ""
    if len(lowered) > _FEW_CHOICES:
        found = next((edit for edit in _edits(key) if edit in lowered), None)
        return f"did you mean '{lowered[found]}'?" if found else ""
    matches = difflib.get_close_matches(key, list(lowered), n=1, cutoff=_CUTOFF)
    return f"did you mean '{lowered[matches[0]]}'?" if matches else ""


_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def _edits(word: str) -> Iterator[str]:
    """Every string one deletion, transposition, replacement or insertion away from ``word``."""
    if len(word) > 64:
        return
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    yield from (a + b[1:] for a, b in splits if b)
    yield from (a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
    yield from (a + c + b[1:] for a, b in splits if b for c in _LETTERS)
    yield from (a + c + b for a, b in splits for c in _LETTERS)
