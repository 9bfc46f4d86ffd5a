"""Imported layers -> spec text a person would write: names kept, the input shape and class
count as params, repeated sub-graphs as blocks (``blocks.py``), defaults left out, fields in
the source's order, deterministic formatting (``yaml_text.py``)."""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import PydanticUndefined

from archspec.importers.blocks import Block, Call, Entry, find_blocks
from archspec.importers.model import Imported
from archspec.importers.yaml_text import flow, mapping_line, scalar
from archspec.ops import OPS

SCHEMA_LINE = "# yaml-language-server: $schema=../archspec.schema.json"
_PAIRS = ("kernel_size", "strides", "dilation_rate", "pool_size", "output_size")
# Ops that pass their input's meaning through, between the class-count dense and the output.
_PASS_THROUGH = ("softmax", "sigmoid", "activation", "dropout")


def simplify(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Shortest equal form: ``[3, 3]`` -> ``3``, ``[[1, 1], [1, 1]]`` -> ``1``, pool strides
    equal to the pool size left out."""
    found = {}
    for key, value in fields.items():
        if isinstance(value, tuple):
            value = list(value)
        if key in _PAIRS and isinstance(value, list) and len(set(map(str, value))) == 1:
            value = value[0]
        if key == "padding" and isinstance(value, list):
            value = [list(p) if isinstance(p, list | tuple) else p for p in value]
            if all(isinstance(p, list) and p[0] == p[1] for p in value):  # never half and half
                value = [p[0] for p in value]
            if len(value) > 1 and all(v == value[0] and isinstance(v, int) for v in value):
                value = value[0]
        found[key] = value
    if found.get("padding") in (0, [0, 0], [0]):
        found["padding"] = "valid"
    if kind in ("max_pool2d", "avg_pool2d") and found.get("strides") == found.get("pool_size", 2):
        found["strides"] = None
    return found


def non_default(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value differs from the op's default (every ``$arg`` kept)."""
    declared = OPS[kind].model_fields
    kept = {}
    for key, value in fields.items():
        default = declared[key].default if key in declared else PydanticUndefined
        if default is PydanticUndefined or value != default or _is_ref(value):
            kept[key] = value
    return kept


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def class_count_layer(imported: Imported) -> str | None:
    """The dense layer whose units are the class count: the output, or the dense before the
    output's final activation."""
    by_name = {layer.name: layer for layer in imported.layers}
    layer = by_name.get(imported.output)
    while layer is not None and layer.kind in _PASS_THROUGH and len(layer.inputs) == 1:
        layer = by_name.get(layer.inputs[0])
    return layer.name if layer is not None and layer.kind == "dense" else None


def shared_values(entries: list[Entry]) -> dict[str, Any]:
    """Mappings written more than once (initializers, regularizers) become params, named after
    their field (``kernel_initializer`` -> ``kernel_init``), and the fields refer to them."""
    counts: dict[str, int] = {}
    for entry in entries:
        for value in entry.fields.values():
            if isinstance(value, dict):
                counts[flow(value)] = counts.get(flow(value), 0) + 1
    names: dict[str, str] = {}
    found: dict[str, Any] = {}
    for entry in entries:
        for key, value in entry.fields.items():
            text = flow(value) if isinstance(value, dict) else None
            if text is None or counts[text] < 2:
                continue
            if text not in names:
                base = key.replace("_initializer", "_init").replace("_regularizer", "_reg")
                name, number = base, 1
                while name in found or name in ("input_shape", "n_classes"):
                    number += 1
                    name = f"{base}_{number}"
                names[text], found[name] = name, value
            entry.fields[key] = "$" + names[text]
    return found


def write_spec(imported: Imported, doc: str = "") -> str:
    """The spec text; every node keeps its source layer's name."""
    params: dict[str, Any] = {"input_shape": list(imported.input_shape)}
    counted = class_count_layer(imported)
    entries = []
    for layer in imported.layers:
        fields = simplify(layer.kind, layer.fields)
        if layer.name == counted:
            params["n_classes"] = fields["units"]
            fields["units"] = "$n_classes"
        entries.append(Entry(layer.name, layer.kind, fields, list(layer.inputs)))
    params.update(shared_values(entries))
    top, blocks = find_blocks(entries, imported.input_name)
    lines = [
        SCHEMA_LINE,
        "archspec: 1",
        f"name: {scalar(_identifier(imported.name))}",
        *_doc_lines(doc or f"Imported from {imported.source} by archspec import."),
        "",
        "params:",
        *(f"  {key}: {flow(value)}" for key, value in params.items()),
        "",
        _input_line(imported),
    ]
    if blocks:
        lines += ["", "blocks:"]
        for block in blocks:
            lines += _block_lines(block)
    lines += ["", "layers:"]
    exits = _call_exits(top, entries)
    implicit = auto_named(top, entries, imported.input_name) - _referenced(top, imported)
    previous = imported.input_name
    for item in top:
        if isinstance(item, Call):
            lines += _call_lines(item)
            previous = item.name
            continue
        inputs = [exits.get(name, name) for name in item.inputs]
        lines += _entry_lines(item, inputs, previous, 2, item.name not in implicit)
        previous = item.name
    # outputs name nodes (full names), never a block call
    outputs = imported.outputs
    if len(outputs) > 1:
        lines.append(f"outputs: {flow(outputs)}")
    elif imported.output != entries[-1].name:
        lines.append(f"output: {outputs[0]}")
    return "\n".join(lines) + "\n"


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() and c.isascii() else "_" for c in name).strip("_")
    return cleaned if cleaned and cleaned[0].isalpha() else f"model_{cleaned}".rstrip("_")


def _doc_lines(doc: str) -> list[str]:
    words, lines, current = doc.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > 96:
            lines.append("  " + current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append("  " + current)
    return ["doc: >-", *lines]


def _input_line(imported: Imported) -> str:
    fields = {"shape": "$input_shape"}
    if imported.input_name != "input":
        fields["name"] = imported.input_name
    return mapping_line("input: ", fields, 0)[0]


def _call_exits(top: list[Entry | Call], entries: list[Entry]) -> dict[str, str]:
    """Full name of each block call's last layer -> what the top level calls it."""
    found, position = {}, 0
    for item in top:
        position += item.size if isinstance(item, Call) else 1
        if isinstance(item, Call):
            last = entries[position - 1].name
            number = item.first + item.repeat - 1 if item.repeat is not None else None
            found[last] = item.name if number is None else f"{item.name}{item.separator}{number}"
    return found


def _referenced(top: list[Entry | Call], imported: Imported) -> set[str]:
    """Names written in an ``inputs:`` list or as an output: those must be given explicitly."""
    found = set(imported.outputs)
    previous = imported.input_name
    for item in top:
        if isinstance(item, Entry) and item.inputs != [previous]:
            found.update(item.inputs)
        previous = item.name
    return found


def auto_named(top: list[Entry | Call], entries: list[Entry], input_name: str) -> set[str]:
    """Top-level layers whose name is the one archspec gives an unnamed layer (``conv2d``,
    ``conv2d_1``: Keras's own rule), so that ``name:`` can be left out."""
    candidates = [
        item.name
        for item in top
        if isinstance(item, Entry) and re.fullmatch(rf"{item.kind}(_\d+)?", item.name)
    ]
    kinds = {e.name: e.kind for e in entries}
    implicit = set(candidates)
    while True:
        used = {input_name, *(e.name for e in entries if e.name not in implicit)}
        counts: dict[str, int] = {}
        kept = set()
        for name in candidates:
            if name not in implicit:
                continue
            kind = kinds[name]
            count = counts.get(kind, 0)
            while (guess := kind if count == 0 else f"{kind}_{count}") in used:
                count += 1
            counts[kind] = count + 1
            used.add(guess)
            if guess == name:
                kept.add(name)
        if kept == implicit:
            return implicit
        implicit = kept


def _entry_lines(
    entry: Entry, inputs: list[str], previous: str, indent: int, named: bool = True
) -> list[str]:
    pad = " " * indent
    lines = mapping_line(f"- {entry.kind}: ", non_default(entry.kind, entry.fields), indent)
    if named:
        lines.append(f"{pad}  name: {scalar(entry.name)}")
    if inputs != [previous]:
        lines.append(f"{pad}  inputs: {flow(inputs)}")
    return lines


def _block_lines(block: Block) -> list[str]:
    lines = [f"  {block.name}:"]
    if block.doc:
        lines.append(f"    doc: {scalar(block.doc)}")
    lines += mapping_line("args: ", dict(block.args), 4)
    lines.append("    layers:")
    previous = "input"
    for entry in block.layers:
        lines += _entry_lines(entry, entry.inputs, previous, 6)
        previous = entry.name
    return lines


def _call_lines(call: Call) -> list[str]:
    lines = mapping_line(f"- {call.block}: ", call.args, 2)
    lines.append(f"    name: {scalar(call.name)}")
    if call.repeat is not None and (call.first, call.separator) == (1, "_"):
        lines.append(f"    repeat: {call.repeat}")
    elif call.repeat is not None:
        fields = {"count": call.repeat, "first": call.first}
        fields.update({"separator": ""} if call.separator == "" else {})
        lines += mapping_line("repeat: ", fields, 4)
    return lines
