"""The one rule for names in the IR: ASCII identifiers that are not Python keywords.

Names become Keras layer names, PyTorch attribute names and Python variables in generated code,
so the IR refuses anything else whoever built it (the front end adds its own, stricter rules in
``archspec/frontend/names.py``).
"""

from __future__ import annotations

import keyword
import re

# NOTE: use fullmatch: `$` alone also matches before a final newline ("fc\n"). The anchors
# stay for the JSON Schema, whose patterns search.
IDENTIFIER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a node, block or param; None when it can."""
    if not isinstance(name, str) or not IDENTIFIER_RE.fullmatch(name):
        return (
            f"invalid name {name!r}: use a letter then letters, digits or underscores "
            "(at most 63 characters, ASCII)"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"invalid name {name!r}: it is a Python keyword"
    return None
