"""Hover, completion and go to definition, answered from an ``Analysis`` and the op table.

Each feature is a plain function of (analysis, line, character); the server only converts
protocol types. Positions here are 0-based, as the protocol sends them; the analysis and the
diagnostics are 1-based.
"""

from __future__ import annotations

import inspect
import re

from lsprotocol import types as lsp

from archspec.diagnostics import Location
from archspec.display.summary import shape_text
from archspec.frontend.source import YMap, YScalar, to_python
from archspec.lsp.analysis import Analysis, Item
from archspec.ops import OPS
from archspec.ops.reference import field_docs, yaml_value

ARG_TYPES = ("int", "float", "str", "bool", "list", "any")  # a block argument's type names
PARAM_RE = re.compile(r"\$\{?([A-Za-z_]\w*)\}?")
WORD_RE = re.compile(r"[A-Za-z_]\w*")
TOP_KEYS = {
    "archspec": "Spec language version (1).",
    "name": "Network name (an identifier).",
    "doc": "One paragraph on what the network is and where from.",
    "params": "Overridable params, typed by their defaults (`--set NAME=VALUE`).",
    "input": "The model input: `{shape: [H, W, C]}`, batch implicit, channels_last.",
    "blocks": "Reusable sub-graphs with typed arguments.",
    "layers": "The layers: a list is a chain; `name:` and `inputs:` wire any DAG.",
    "output": "Output node (default: the last layer).",
}
BESIDE = {
    "name": "The layer's name (Keras layer name, PyTorch attribute, state_dict key).",
    "inputs": "Names of the layers this one reads (default: the one before).",
    "repeat": "Unroll this layer or block call N times.",
}


# ----------------------------------------------------------------------------------- hover
def hover(found: Analysis, line: int, char: int) -> lsp.Hover | None:
    """Markdown for a ``$param``, an op or block key, or any line of a layer item."""
    text = _line(found, line)
    param = _match_at(PARAM_RE, text, char)
    if param is not None:
        return _hover_param(found, line, param)
    item = found.item_at(line + 1)
    if item is None:
        word = _match_at(WORD_RE, text, char)
        if word is not None and word.group() in found.blocks:
            return _markdown(block_signature(found, word.group()))
        return None
    if item.kind in found.blocks:
        return _markdown(_block_call(found, item))
    return _markdown(_layer(found, item))


def _hover_param(found: Analysis, line: int, match: re.Match[str]) -> lsp.Hover | None:
    name = match.group(1)
    block = _enclosing_block(found, line + 1)
    if block is not None:
        args = _block_args(found, block)
        if name in args:
            return _markdown(f"`${name}`: argument of block `{block}`, {args[name]}")
    known, value = found.param_value(name)
    if not known:
        return None
    return _markdown(f"`${name}` = `{yaml_value(value)}` (spec param)")


def _layer(found: Analysis, item: Item) -> str:
    cls = OPS.get(item.kind)
    title = f"**{item.kind}**" + (f": {_first_line(cls)}" if cls else "")
    nodes = found.nodes_of(item)
    if not nodes:
        return title + "\n\n(not loaded: see the problems reported for this spec)"
    rows = ["| layer | output shape | params | MACs |", "|---|---|---:|---:|"]
    for node in nodes:
        layer = found.layer(node)
        if layer is None:
            rows.append(f"| {node.name} | (not checked) | | |")
        else:
            rows.append(
                f"| {node.name} | {shape_text(layer.output_shape)} | {layer.params:,} | "
                f"{layer.macs:,} |"
            )
    attributes = nodes[0].op.describe()
    return "\n".join([title, "", f"`{attributes}`" if attributes else "", "", *rows])


def _block_call(found: Analysis, item: Item) -> str:
    parts = [block_signature(found, item.kind)]
    found_layers = [found.layer(n) for n in found.nodes_of(item)]
    layers = [layer for layer in found_layers if layer is not None]
    if layers and len(layers) == len(found_layers):
        total = sum(layer.params for layer in layers)
        macs = sum(layer.macs for layer in layers)
        last = layers[-1].output_shape
        parts.append(
            f"This call: {len(layers)} layers, output shape {shape_text(last)}, "
            f"{total:,} params, {macs:,} MACs"
        )
    return "\n\n".join(parts)


def block_signature(found: Analysis, name: str) -> str:
    """``block basic_block(filters: int, strides=2)`` with the block's doc."""
    args = ", ".join(f"{k}{v}" for k, v in _block_args(found, name, signature=True).items())
    doc = found.blocks[name][1].get("doc")
    text = f"```\nblock {name}({args})\n```"
    return text + (f"\n\n{doc.value}" if isinstance(doc, YScalar) else "")


def _block_args(found: Analysis, name: str, signature: bool = False) -> dict[str, str]:
    """Argument -> ``: int`` (required, typed) or ``=default`` for a block."""
    _, block = found.blocks[name]
    args = block.get("args")
    out: dict[str, str] = {}
    if not isinstance(args, YMap):
        return out
    for arg, node in args.items.items():
        value = node.value if isinstance(node, YScalar) else None
        if isinstance(value, str) and value in ARG_TYPES:
            out[arg] = f": {value}" if signature else f"required ({value})"
        else:
            shown = yaml_value(to_python(node))
            out[arg] = f"={shown}" if signature else f"default `{shown}`"
    return out


# ------------------------------------------------------------------------------ completion
def completion(found: Analysis, line: int, char: int) -> list[lsp.CompletionItem]:
    """Param names after ``$``; fields inside an op's mapping; else op and block names."""
    text = _line(found, line)[:char]
    if re.search(r"\$\{?\w*$", text):
        return _param_items(found, line)
    op = _op_being_written(found, line, text)
    if op is not None:
        return _field_items(found, op)
    if re.fullmatch(r"\s*-\s*\w*", text) or re.fullmatch(r"\s*-\s*\{\s*\w*", text):
        return _op_items(found)
    if re.fullmatch(r"\w*", text):
        return [
            lsp.CompletionItem(key, kind=lsp.CompletionItemKind.Property, documentation=doc)
            for key, doc in TOP_KEYS.items()
        ]
    if re.fullmatch(r"\s+\w*", text) and found.item_at(line + 1) is not None:
        return [
            lsp.CompletionItem(key, kind=lsp.CompletionItemKind.Property, documentation=doc)
            for key, doc in BESIDE.items()
        ]
    return []


def _param_items(found: Analysis, line: int) -> list[lsp.CompletionItem]:
    items = []
    block = _enclosing_block(found, line + 1)
    if block is not None:
        for arg, about in _block_args(found, block).items():
            items.append(
                lsp.CompletionItem(
                    arg,
                    kind=lsp.CompletionItemKind.Variable,
                    detail=f"argument of block {block}: {about}",
                )
            )
    for name in found.params:
        _, value = found.param_value(name)
        items.append(
            lsp.CompletionItem(
                name, kind=lsp.CompletionItemKind.Constant, detail=f"= {yaml_value(value)}"
            )
        )
    return items


def _op_items(found: Analysis) -> list[lsp.CompletionItem]:
    items = [
        lsp.CompletionItem(
            kind,
            kind=lsp.CompletionItemKind.Class,
            detail=f"op ({cls.family})",
            documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, _op_doc(kind)),
            insert_text=f"{kind}: {{}}",
        )
        for kind, cls in OPS.items()
        if kind != "input"
    ]
    for name in found.blocks:
        items.append(
            lsp.CompletionItem(
                name,
                kind=lsp.CompletionItemKind.Function,
                detail="block",
                documentation=lsp.MarkupContent(
                    lsp.MarkupKind.Markdown, block_signature(found, name)
                ),
                insert_text=f"{name}: {{}}",
            )
        )
    return items


def _field_items(found: Analysis, kind: str) -> list[lsp.CompletionItem]:
    if kind in found.blocks:
        return [
            lsp.CompletionItem(arg, kind=lsp.CompletionItemKind.Field, detail=about)
            for arg, about in _block_args(found, kind).items()
        ]
    return [
        lsp.CompletionItem(
            doc.name,
            kind=lsp.CompletionItemKind.Field,
            detail=f"{doc.type}, {doc.default if doc.required else 'default ' + doc.default}",
            documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, doc.description),
            insert_text=f"{doc.name}: ",
        )
        for doc in field_docs(OPS[kind])
    ]


def _op_being_written(found: Analysis, line: int, before: str) -> str | None:
    """The op (or block) whose fields the cursor is in: ``conv2d: {filters: 3, |`` on this line,
    or a block-style mapping under an op key of the item this line belongs to."""
    known = set(OPS) | set(found.blocks)
    flows = list(re.finditer(r"(\w+):\s*\{([^{}]*)$", before))
    if flows and flows[-1].group(1) in known:
        return flows[-1].group(1)
    item = found.item_at(line + 1)
    if item is not None and item.kind in known and item.location.line - 1 < line:
        opened = _line(found, item.location.line - 1)[item.location.col - 1 :]
        if "{" in opened and "}" not in opened:  # a flow mapping continued on this line
            return item.kind
        if re.fullmatch(rf"{item.kind}:\s*(#.*)?", opened.strip()):  # block style below
            return item.kind
    return None


# ------------------------------------------------------------------------------ definition
def definition(found: Analysis, uri: str, line: int, char: int) -> lsp.Location | None:
    """Where a ``$param`` (or block argument) or a called block is defined."""
    text = _line(found, line)
    param = _match_at(PARAM_RE, text, char)
    if param is not None:
        name = param.group(1)
        block = _enclosing_block(found, line + 1)
        if block is not None:
            args = found.blocks[block][1].get("args")
            if isinstance(args, YMap) and name in args.items:
                return _location(uri, args.key_locations[name], name)
        if name in found.params:
            return _location(uri, found.params[name][0], name)
        return None
    word = _match_at(WORD_RE, text, char)
    if word is None:
        return None
    if word.group() in found.blocks:
        return _location(uri, found.blocks[word.group()][0], word.group())
    # A layer named in `inputs: [...]` or `output:`: names are local to a block's definition.
    scope = found.block_at(line + 1)
    for item in found.items:
        if item.name == word.group() and item.block == scope:
            return _location(uri, item.location, item.kind)
    return None


# --------------------------------------------------------------------------------- outline
def symbols(found: Analysis) -> list[lsp.DocumentSymbol]:
    """The editor's outline: params, blocks, then the top-level layers (as named in the graph)."""
    out = [
        _symbol(name, "param", where, lsp.SymbolKind.Constant)
        for name, (where, _) in found.params.items()
    ]
    out += [
        _symbol(name, "block", where, lsp.SymbolKind.Function)
        for name, (where, _) in found.blocks.items()
    ]
    for item in found.items:
        if item.block is None:
            nodes = found.nodes_of(item)
            name = nodes[0].name if len(nodes) == 1 else f"{item.kind} ({len(nodes)} layers)"
            out.append(_symbol(name, item.kind, item.location, lsp.SymbolKind.Class))
    return out


def _symbol(name: str, detail: str, where: Location, kind: lsp.SymbolKind) -> lsp.DocumentSymbol:
    place = _location("", where, detail).range
    return lsp.DocumentSymbol(
        name=name, kind=kind, range=place, selection_range=place, detail=detail
    )


# --------------------------------------------------------------------------------- helpers
def _line(found: Analysis, line: int) -> str:
    lines = found.text.splitlines()
    return lines[line] if 0 <= line < len(lines) else ""


def _match_at(pattern: re.Pattern[str], text: str, char: int) -> re.Match[str] | None:
    for match in pattern.finditer(text):
        if match.start() <= char <= match.end():
            return match
    return None


def _enclosing_block(found: Analysis, line: int) -> str | None:
    """The block whose definition holds ``line`` (1-based), if any."""
    return found.block_at(line)


def _location(uri: str, where: Location, name: str) -> lsp.Location:
    start = lsp.Position(where.line - 1, where.col - 1)
    end = lsp.Position(where.line - 1, where.col - 1 + len(name))
    return lsp.Location(uri, lsp.Range(start, end))


def _markdown(text: str) -> lsp.Hover:
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text))


def _first_line(cls: type) -> str:
    return (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")


def _op_doc(kind: str) -> str:
    cls = OPS[kind]
    fields = ", ".join(
        doc.name if doc.required else f"{doc.name}={doc.default}" for doc in field_docs(cls)
    )
    return f"{_first_line(cls)}\n\n`{kind}: {{{fields}}}`"
