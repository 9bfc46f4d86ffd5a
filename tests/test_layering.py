"""The package's import graph, computed from the source: no cycles, and no layer imports upward.

Every ``import`` and ``from ... import`` of an ``archspec`` module counts, at module level or
inside a function (a lazy import is still a dependency). The layers, lowest first, are the
pipeline a compiler reads in: shared support, the op table, the IR, the front end, the passes
(and the training recipe, which backends lower like ops), code generation, the backends, the
library features built on them, and the command line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "archspec"

# Lowest first: a module may import its own layer and the layers before it, never after.
LAYERS: list[tuple[str, ...]] = [
    ("archspec.limits", "archspec.util", "archspec.diagnostics"),
    ("archspec.ops",),
    ("archspec.ir",),
    ("archspec.frontend", "archspec.training.recipe"),  # the header validates training:
    ("archspec.passes", "archspec.training"),
    ("archspec.codegen", "archspec.display"),
    ("archspec.backends",),
    ("archspec.api",),
    (
        "archspec.transfer",
        "archspec.verify",
        "archspec.train",
        "archspec.training.run",  # archspec.train: renders and runs a backend's script
        "archspec.importers",
    ),
    ("archspec.lsp",),
    ("archspec", "archspec.cli", "archspec.__main__"),
]


# Notebook display hooks: Jupyter asks the object itself (``_repr_html_``), so the IR's Graph and
# the checker's Report import the display module lazily, inside that one method. The only
# imports allowed to point upward; each stays a one-line delegation.
DISPLAY_HOOKS = {
    ("archspec.ir.graph", "archspec.display.html"),
    ("archspec.passes.check", "archspec.display.html"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str, modules: set[str]) -> Iterator[str]:
    """The archspec modules ``path`` imports. ``from pkg import mod`` counts ``pkg.mod`` only:
    the package's own ``__init__`` runs first for any submodule, which is no dependency."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("archspec"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base.startswith("archspec"):
                submodules = [
                    f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules
                ]
                yield from submodules
                if len(submodules) < len(node.names):
                    yield base


def import_graph() -> dict[str, set[str]]:
    """Module -> the archspec modules it imports (only those that exist)."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {
        name: {
            t
            for t in imported(path, name, modules)
            if t in modules and t != name and (name, t) not in DISPLAY_HOOKS
        }
        for name, path in paths.items()
    }


def layer_of(module: str) -> int:
    """The index of the most specific layer prefix that covers ``module``."""
    best, length = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            covers = module == prefix or module.startswith(prefix + ".")
            if covers and len(prefix) > length:
                best, length = index, len(prefix)
    return best


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = sorted(m for m in import_graph() if layer_of(m) < 0)
    assert not unplaced, f"add these modules to a layer in LAYERS: {unplaced}"


def test_import_graph_has_no_cycles() -> None:
    assert cycles(import_graph()) == []


def test_lower_layers_never_import_higher_ones() -> None:
    upward = [
        f"{source} -> {target}"
        for source, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(source)
    ]
    assert upward == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    """The check above can fail: the finder reports a planted cycle."""
    assert cycles(graph) == expected


def test_layer_rule_catches_an_upward_import() -> None:
    assert layer_of("archspec.frontend.load") < layer_of("archspec.passes.check")
    assert layer_of("archspec.ops.conv") < layer_of("archspec.backends.keras.live")
