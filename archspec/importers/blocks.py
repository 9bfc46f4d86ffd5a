"""Find repeated sub-graphs and turn them into blocks with arguments, as a person writes them.

1. Cut the layer list where nothing crosses: position i is a cut when no later layer reads a
   layer before i. Between two cuts lies a single-entry, single-exit segment (a residual
   block, a dense block's concatenations, or one layer of a chain).
2. Group consecutive segments whose layer names share a prefix (``block1_conv1``,
   ``block1_pool`` -> ``block1``; ``layer2_0_conv1`` ... -> ``layer2_0``): a group is one
   instance candidate, its layers named locally (``conv1``, ``pool``).
3. Instances with the same local names, kinds, field keys and wiring are one block; field
   values that differ between instances become its arguments, the rest stay written in.
   A local name may start with a digit (``1_conv`` in ``conv2_block1``): names stay the source's.
4. Consecutive calls named ``base_K ... base_K+N-1`` (or ``baseK ...``) with equal arguments
   become one call with ``repeat:`` (its ``first`` and ``separator`` when not 1 and ``_``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from archspec.frontend.names import name_problem, node_name_problem
from archspec.ops import OPS


@dataclass
class Entry:
    """One layer as the writer sees it: local name, kind, fields, inputs (local or ``input``)."""

    name: str
    kind: str
    fields: dict[str, Any]
    inputs: list[str]


@dataclass
class Block:
    """A block definition: its name, argument types, layers (fields may hold ``$arg``)."""

    name: str
    args: dict[str, str]
    layers: list[Entry]
    doc: str = ""


@dataclass
class Call:
    """A block call in the top-level list: the block, its arguments, the instance name."""

    block: str
    args: dict[str, Any]
    name: str
    repeat: int | None = None
    first: int = 1  # the number the first repetition's name ends with
    separator: str = "_"  # between the name and the number
    size: int = 0  # how many layers the call expands to


def segments(entries: list[Entry], input_name: str) -> list[list[int]]:
    """Indices of single-entry single-exit segments, in order (see the module docstring)."""
    position = {e.name: i for i, e in enumerate(entries)}
    position[input_name] = -1
    # earliest[i]: the earliest position read by any layer at or after i
    earliest = [0] * (len(entries) + 1)
    earliest[len(entries)] = len(entries)
    for i in range(len(entries) - 1, -1, -1):
        reads = [position[name] for name in entries[i].inputs]
        earliest[i] = min([earliest[i + 1], *reads])
    found, start = [], 0
    for i in range(len(entries)):
        # a cut after i: layers after i read nothing before i
        if earliest[i + 1] >= i:
            found.append(list(range(start, i + 1)))
            start = i + 1
    return found


def _tokens(name: str) -> list[str]:
    return name.split("_")


def _common(names: list[str]) -> list[str]:
    token_lists = [_tokens(n) for n in names]
    common: list[str] = []
    for parts in zip(*token_lists, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    shortest = min(len(t) for t in token_lists)
    return common[: shortest - 1] if len(common) >= shortest else common


def _extends(key: str, group: str) -> bool:
    """``key`` is ``group`` or a name under it (token-wise)."""
    return key == group or key.startswith(group + "_")


def group_key(entries: list[Entry], segment: list[int]) -> str:
    """The name prefix a segment's layers share (all but a name's last token for one layer)."""
    names = [entries[i].name for i in segment]
    tokens = _common(names) if len(names) > 1 else _tokens(names[0])[:-1]
    return "_".join(tokens)


def find_blocks(entries: list[Entry], input_name: str) -> tuple[list[Entry | Call], list[Block]]:
    """The top-level list (plain entries and block calls) and the block definitions."""
    groups: list[tuple[str, list[int]]] = []
    for segment in segments(entries, input_name):
        key = group_key(entries, segment)
        # a segment joins the group before it when their names share the group's whole key
        # (block_1 takes block_1_expand_BN; conv2_block1 does not take conv2_block2_...)
        if groups and groups[-1][0] and _extends(key, groups[-1][0]):
            groups[-1][1].extend(segment)
        else:
            groups.append((key, list(segment)))
    taken = {e.name for e in entries}
    candidates = []
    for key, indices in groups:
        usable = key and len(indices) > 1 and key not in taken
        local = _localise(entries, indices, key) if usable else None
        candidates.append((key, indices, local))
    by_shape: dict[Any, list[int]] = {}
    for number, (_, _, local) in enumerate(candidates):
        if local is not None:
            by_shape.setdefault(_shape(local), []).append(number)
    blocks: dict[Any, Block] = {}
    used_names: set[str] = set()
    for shape, numbers in by_shape.items():
        if len(numbers) > 1:
            instances = [candidates[n][2] for n in numbers]
            blocks[shape] = _make_block(instances, [candidates[n][0] for n in numbers], used_names)
    _distinguish(list(blocks.values()))
    top: list[Entry | Call] = []
    for key, indices, local in candidates:
        block = blocks.get(_shape(local)) if local is not None else None
        if block is None:
            top.extend(entries[i] for i in indices)
            continue
        args = {arg: _arg_value(block, local, arg) for arg in block.args}  # type: ignore[arg-type]
        top.append(Call(block.name, args, key, size=len(indices)))
    return _repeats(top), list(blocks.values())


def _localise(entries: list[Entry], indices: list[int], key: str) -> list[Entry] | None:
    """The group's layers with block-local names, or None. A local name may start with a
    digit (``1_conv`` in instance ``conv2_block1``): the node keeps the source's full name."""
    if name_problem(key) or node_name_problem(key):
        return None
    local_of: dict[str, str] = {}
    for i in indices:
        local = entries[i].name[len(key) + 1 :]
        checked = entries[i].name if local[:1].isdigit() else local
        if not local or node_name_problem(checked) or local == "input":
            return None
        local_of[entries[i].name] = local
    found = []
    for i in indices:
        entry = entries[i]
        # segments have one entry point: whatever is not local is the block's input
        inputs = [local_of.get(name, "input") for name in entry.inputs]
        found.append(Entry(local_of[entry.name], entry.kind, dict(entry.fields), inputs))
    return found


def _shape(layers: list[Entry]) -> Any:
    return tuple((e.name, e.kind, tuple(e.fields), tuple(e.inputs)) for e in layers)


def _make_block(instances: list[list[Entry]], keys: list[str], used: set[str]) -> Block:
    """One definition for structurally equal instances: varying values become arguments."""
    first = instances[0]
    columns: dict[tuple[Any, ...], str] = {}  # per-instance values -> argument name
    layers, args = [], {}
    for position, entry in enumerate(first):
        fields = {}
        for key, value in entry.fields.items():
            values = tuple(_freeze(inst[position].fields[key]) for inst in instances)
            if len(set(values)) == 1:
                fields[key] = value
                continue
            if values not in columns:
                name = key if key not in args else f"{entry.name}_{key}"
                columns[values] = name
                args[name] = _type_name([inst[position].fields[key] for inst in instances])
            fields[key] = "$" + columns[values]
        layers.append(Entry(entry.name, entry.kind, fields, list(entry.inputs)))
    _derive_multiples(columns, args, layers)
    base = re.sub(r"_+", "_", re.sub(r"\d+", "", keys[0])).strip("_") or "block"
    base = base if not base[0].isdigit() else "b" + base
    name, count = base, 1
    while name in used or name in OPS or name_problem(name):
        count += 1
        name = f"{base}_{count}"
    used.add(name)
    return Block(name, args, layers)


def _distinguish(blocks: list[Block]) -> None:
    """Blocks that got one base name (``layer``, ``layer_2``) are named after a layer only they
    have (``layer_downsample``, MobileNet's ``block_pad`` and ``block_add``), when there is one."""
    families: dict[str, list[Block]] = {}
    for block in blocks:
        families.setdefault(re.sub(r"_\d+$", "", block.name), []).append(block)
    taken = {block.name for block in blocks}
    for base, family in families.items():
        if len(family) < 2:
            continue
        common = set.intersection(*({e.name for e in b.layers} for b in family))
        for block in family:
            own = [e.name for e in block.layers if e.name not in common]
            if not own:
                continue
            name = f"{base}_{own[0].split('_')[0]}"
            if name not in taken and name not in OPS and not name_problem(name):
                taken.discard(block.name)
                block.name = name
                taken.add(name)


def _derive_multiples(
    columns: dict[tuple[Any, ...], str], args: dict[str, str], layers: list[Entry]
) -> None:
    """An int argument that is always k times an earlier one becomes ``$a * k`` (ResNet's
    expansion 4: ``filters: $filters * 4``) instead of an argument of its own."""
    ints = [(v, n) for v, n in columns.items() if args[n] == "int" and all(x > 0 for x in v)]
    for position, (values, name) in enumerate(ints):
        for base_values, base in ints[:position]:
            ratios = {
                v // b if v % b == 0 else None for v, b in zip(values, base_values, strict=True)
            }
            if len(ratios) == 1 and None not in ratios and base in args:
                factor = ratios.pop()
                del args[name]
                for entry in layers:
                    for key, value in entry.fields.items():
                        if value == "$" + name:
                            entry.fields[key] = f"${base} * {factor}"
                break


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _type_name(values: list[Any]) -> str:
    kinds = {type(v) for v in values}
    if kinds == {int}:
        return "int"
    if kinds <= {int, float}:
        return "float"
    if kinds == {str}:
        return "str"
    if kinds == {bool}:
        return "bool"
    if kinds <= {list}:
        return "list"
    return "any"


def _arg_value(block: Block, instance: list[Entry], arg: str) -> Any:
    for position, entry in enumerate(block.layers):  # where the block first reads it
        for key, value in entry.fields.items():
            if value == "$" + arg:
                return instance[position].fields[key]
    raise LookupError(arg)


def _repeats(top: list[Entry | Call]) -> list[Entry | Call]:
    """Runs of two or more calls ``base_K ... base_K+N-1`` with equal arguments ->
    ``repeat: N`` (K = 1) or ``repeat: {count: N, first: K}`` (torchvision's ``layer1_0``,
    Keras's ``conv2_block2`` after a first block of another kind)."""
    found: list[Entry | Call] = []
    index = 0
    while index < len(top):
        item = top[index]
        match = _numbered(item.name) if isinstance(item, Call) else None
        base, separator, first = match or ("", "_", 1)
        end = index + 1
        while (
            match
            and end < len(top)
            and isinstance(top[end], Call)
            and top[end].block == item.block  # type: ignore[union-attr]
            and top[end].args == item.args  # type: ignore[union-attr]
            and top[end].name == f"{base}{separator}{first + end - index}"
        ):
            end += 1
        if end - index > 1:
            size = sum(call.size for call in top[index:end])  # type: ignore[union-attr]
            item = Call(item.block, item.args, base, end - index, first, separator, size)  # type: ignore[union-attr]
        found.append(item)
        index = end
    return found


def _numbered(name: str) -> tuple[str, str, int] | None:
    """``layer1_0`` -> (``layer1``, ``_``, 0); ``conv2_block2`` -> (``conv2_block``, ``""``, 2)."""
    found = re.fullmatch(r"(.+)(_)(0|[1-9]\d*)", name) or re.fullmatch(
        r"(.*[^\d_])()(0|[1-9]\d*)", name
    )
    return (found.group(1), found.group(2), int(found.group(3))) if found else None
