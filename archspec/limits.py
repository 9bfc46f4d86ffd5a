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
# Expansion work: every layer-list item unrolled (also those that fail or make no layer) and
# every YAML value copied into a layer, so `repeat` times a big payload is bounded too.
MAX_EXPANSION_STEPS = 200_000
MAX_EXPANDED_VALUES = 1_000_000
MAX_ERRORS = 50  # then "too many errors", as compilers stop (clang: -ferror-limit=20)
MAX_DIMENSION = 2**31 - 1  # any tensor axis; frameworks index with int32 or int64
DEFAULT_MAX_PARAMS = 2_000_000_000
MAX_EXPRESSION_LENGTH = 1_000  # characters of one expression value (`$width * 2`)
MAX_EXPRESSION_DEPTH = 32  # nesting of parentheses, calls and conditionals in one expression
