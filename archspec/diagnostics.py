"""Located diagnostics: the compiler reports problems as values, the CLI prints them.

Every problem carries where it was written (``FILE:LINE:COL``) and the spec path of the value at
fault (``layers[3].conv2d.filters``), so a user can jump straight to it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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

    def format(self) -> str:
        """Render as ``FILE:LINE:COL: error: PATH: MESSAGE (HINT)`` on one line."""
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.hint:
            text += f" ({self.hint})"
        text = " ".join(text.split())  # one line per problem, whatever the message held
        return f"{self.location}: error: {text}"


class SpecError(Exception):
    """Raised at the API boundary with every diagnostic collected so far."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``did you mean 'x'?`` hint for a misspelt name, or an empty string."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else ""
