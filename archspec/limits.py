"""Every resource limit in one place: the bounds on input size and compiler work.

Hostile or accidental input (an alias bomb, a million repeats) must be refused in bounded time
and memory, so each stage checks its own limit from this table. Kept import-free so that the
command line can quote a limit in ``--help`` without loading the compiler.
"""

from __future__ import annotations

MAX_SPEC_BYTES = 4 * 2**20  # a spec is a page of YAML; megabytes of it are an accident or an attack
MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 64
MAX_INT_DIGITS = 30  # far beyond any size; keeps Python's int parsing and printing cheap
MAX_NODES = 50_000  # layers after expansion
DEFAULT_MAX_PARAMS = 2_000_000_000
