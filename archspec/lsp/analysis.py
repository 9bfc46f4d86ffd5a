"""One analysis of a spec's text: what ``archspec check`` finds, plus an index of the text.

The language server answers every request from the latest ``Analysis`` of a document. It is
built in process by the same functions ``archspec check`` runs (``load`` then ``check``), so the
editor shows exactly the command's diagnostics, and it knows where each param, block and layer
is written (from the located YAML tree) for hover, completion and go to definition. Nothing here
speaks the protocol: positions are 1-based (line, column in characters), as in diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archspec.diagnostics import Diagnostic, Location, SpecError
from archspec.frontend.source import YMap, YNode, YScalar, YSeq, parse_yaml, to_python
from archspec.ir.graph import Graph, Node
from archspec.passes.check import LayerReport, Report

# Keys of a layer item that sit beside its op or block key.
BESIDE_THE_OP = {"name", "inputs", "repeat"}


@dataclass(frozen=True)
class Item:
    """One entry of a ``layers:`` list: an op (``conv2d: {...}``) or a block call."""

    kind: str  # the op or block key
    location: Location  # of that key (where the nodes it makes are located)
    start: int  # the line of the item's ``-``
    dash_col: int  # column of the ``-``: the item ends where indentation returns to it
    path: str  # ``layers[3]`` or ``blocks.res.layers[0]``
    block: str | None  # the block whose definition holds it (None: the top-level list)
    name: str | None = None  # its ``name:``, if written (what ``inputs:`` lists refer to)


@dataclass
class Analysis:
    """The diagnostics, graph and report of one text, and where its names are written."""

    filename: str
    text: str
    diagnostics: list[Diagnostic]
    graph: Graph | None = None
    report: Report | None = None
    params: dict[str, tuple[Location, YNode]] = field(default_factory=dict)
    blocks: dict[str, tuple[Location, YMap]] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)

    def param_value(self, name: str) -> tuple[bool, Any]:
        """(found, value) of a spec param: as loaded (overrides and expressions applied) when
        the spec loads, else as written."""
        if self.graph is not None and name in self.graph.params:
            return True, self.graph.params[name]
        if name in self.params:
            return True, to_python(self.params[name][1])
        return False, None

    def item_at(self, line: int) -> Item | None:
        """The layer item whose text holds ``line`` (1-based), if any."""
        starts = {item.start: item for item in self.items}
        lines = self.text.splitlines()
        shallowest: int | None = None  # least indentation met on the way up
        for number in range(min(line, len(lines)), 0, -1):
            item = starts.get(number)
            if item is not None:
                inside = shallowest is None or shallowest > item.dash_col - 1
                return item if inside else None
            text = lines[number - 1]
            if text.strip() and not text.lstrip().startswith("#"):
                indent = len(text) - len(text.lstrip(" "))
                shallowest = indent if shallowest is None else min(shallowest, indent)
        return None

    def block_at(self, line: int) -> str | None:
        """The block whose definition holds ``line`` (1-based), if any."""
        for name, (where, block) in self.blocks.items():
            if where.line <= line <= _last_line(block):
                return name
        return None

    def nodes_of(self, item: Item) -> list[Node]:
        """The graph nodes an item made: every instance of it (repeats, block calls)."""
        if self.graph is None:
            return []
        if item.block is None:
            return [n for n in self.graph.nodes if _under(n.source.path, item.path)]
        return [n for n in self.graph.nodes if n.source.location == item.location]

    def layer(self, node: Node) -> LayerReport | None:
        if self.report is None:
            return None
        try:
            return self.report.layer(node.name)
        except KeyError:
            return None


def analyze(text: str, filename: str) -> Analysis:
    """Load and check ``text`` as ``archspec check`` does; index what parses."""
    from archspec.frontend.load import load
    from archspec.passes.check import check

    # NOTE: a one-line text could be read as a file name; a newline keeps it text.
    source = text if "\n" in text else text + "\n"
    found = Analysis(filename, text, [])
    try:
        found.graph = load(source, None, filename)
        found.report = check(found.graph)
    except SpecError as err:
        found.diagnostics = err.diagnostics
    except Exception as err:  # a bug must not take the editor's server down: say so, once
        message = f"archspec internal error: {type(err).__name__}: {err} (a bug: please report it)"
        found.diagnostics = [Diagnostic(message, Location(filename, 1, 1))]
    _index(found, source)
    return found


def _index(found: Analysis, text: str) -> None:
    try:
        root = parse_yaml(text, found.filename)
    except SpecError:
        return
    if not isinstance(root, YMap):
        return
    params, blocks = root.get("params"), root.get("blocks")
    if isinstance(params, YMap):
        found.params = {k: (params.key_locations[k], v) for k, v in params.items.items()}
    if isinstance(blocks, YMap):
        for name, block in blocks.items.items():
            if isinstance(block, YMap):
                found.blocks[name] = (blocks.key_locations[name], block)
                _items(found, block.get("layers"), f"blocks.{name}.layers", name)
    _items(found, root.get("layers"), "layers", None)


def _items(found: Analysis, layers: YNode | None, path: str, block: str | None) -> None:
    if not isinstance(layers, YSeq):
        return
    for index, item in enumerate(layers.items):
        if not isinstance(item, YMap):
            continue
        keys = [k for k in item.items if k not in BESIDE_THE_OP]
        if len(keys) != 1:
            continue
        where = item.key_locations[keys[0]]
        dash = _dash_col(found.text, item.location)
        name = item.get("name")
        written = name.value if isinstance(name, YScalar) and isinstance(name.value, str) else None
        found.items.append(
            Item(keys[0], where, item.location.line, dash, f"{path}[{index}]", block, written)
        )


def _dash_col(text: str, where: Location) -> int:
    """The column of the ``-`` before the mapping that starts at ``where``."""
    lines = text.splitlines()
    line = lines[where.line - 1] if where.line <= len(lines) else ""
    position = line[: where.col - 1].rfind("-")
    return position + 1 if position >= 0 else where.col


def _under(path: str, prefix: str) -> bool:
    return path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in (".", "[")


def _last_line(node: YNode) -> int:
    """The last line a located value reaches (its deepest, last child's start)."""
    while isinstance(node, YMap | YSeq) and node.items:
        node = list(node.items.values())[-1] if isinstance(node, YMap) else node.items[-1]
    return node.location.line
