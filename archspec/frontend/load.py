"""``load``: spec text or file -> validated IR graph (parse, expand, validate, lower)."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archspec.diagnostics import Diagnostic, Location, SpecError, did_you_mean
from archspec.frontend.expand import Entry, Expander, _Scope, bind_params
from archspec.frontend.header import SpecHeader
from archspec.frontend.names import name_problem
from archspec.frontend.source import YMap, YNode, YSeq, parse_yaml, to_python
from archspec.frontend.validate import diagnostics_from
from archspec.ir.graph import Graph, Node, Source
from archspec.limits import MAX_SPEC_BYTES
from archspec.ops import OPS
from archspec.util.gc_pause import gc_paused


def read_source(source: str | Path) -> tuple[str | bytes, str]:
    """(text, filename) for a path or for literal YAML text."""
    if isinstance(source, Path) or _names_a_file(source):
        path = Path(source)
        where = Location(str(source), 1, 1)
        try:
            with path.open("rb") as file:
                data = file.read(MAX_SPEC_BYTES + 1)
        except OSError as err:
            raise SpecError([Diagnostic(f"cannot read spec: {err.strerror}", where)]) from None
        if len(data) > MAX_SPEC_BYTES:
            message = f"spec file larger than {MAX_SPEC_BYTES // 2**20} MiB; refusing to read it"
            raise SpecError([Diagnostic(message, where)])
        return data, str(source)
    if len(source) > MAX_SPEC_BYTES:
        message = f"spec text longer than {MAX_SPEC_BYTES // 2**20} MiB; refusing to parse it"
        raise SpecError([Diagnostic(message, Location("<spec>", 1, 1))])
    return source, "<spec>"


def _names_a_file(source: str) -> bool:
    """A one-line string is a path when it looks like one (``.yaml``) or an existing file is
    called that; anything else is YAML text."""
    if "\n" in source:
        return False
    if source.endswith((".yaml", ".yml")):
        return True
    try:
        return Path(source).is_file()
    except (OSError, ValueError):  # a name too long, or holding NUL: not a file
        return False


@gc_paused()
def load(
    source: str | Path, overrides: Mapping[str, Any] | None = None, filename: str | None = None
) -> Graph:
    """Parse, expand and validate a spec into an IR graph, or raise SpecError listing every problem."""
    text, found_name = read_source(source)
    filename = filename or found_name
    root = parse_yaml(text, filename)
    if not isinstance(root, YMap):
        raise SpecError(
            [
                Diagnostic(
                    "a spec must be a mapping with archspec, name, input and layers", root.location
                )
            ]
        )
    try:
        header = SpecHeader.model_validate(to_python(root), strict=True)
    except ValidationError as err:
        raise SpecError(diagnostics_from(err, root, "", SpecHeader)) from None
    problems = [
        Diagnostic(p, root.items["name"].location, "name") for p in [name_problem(header.name)] if p
    ]
    blocks = root.get("blocks")
    block_nodes: dict[str, YMap] = dict(blocks.items) if isinstance(blocks, YMap) else {}  # type: ignore[arg-type]
    for block in block_nodes:
        problem = name_problem(block)
        if problem or block in OPS:
            where = blocks.key_locations[block]  # type: ignore[union-attr]
            problems.append(
                Diagnostic(
                    problem or f"block '{block}' shadows the op of that name",
                    where,
                    f"blocks.{block}",
                )
            )
    params, param_problems = bind_params(root.get("params"), dict(overrides or {}), filename, root)  # type: ignore[arg-type]
    problems += param_problems
    if problems:
        raise SpecError(problems)
    expander = Expander(params, block_nodes)
    entries, output = _expand(root, header, expander)
    if expander.diagnostics:
        raise SpecError(expander.diagnostics)
    nodes = _validate_entries(entries, expander)
    values = {name: to_python(node) for name, node in params.items()}
    ordered = _topological(nodes, entries, output)
    text = text.decode("utf-8") if isinstance(text, bytes) else text
    return Graph(
        header.name,
        header.doc,
        ordered,
        nodes[output].name,
        values,
        filename,
        text,
        dict(overrides or {}),
    )


def reload_with(graph: Graph, **overrides: Any) -> Graph:
    """The same spec loaded again with some params changed."""
    return load(graph.source_text, {**graph.overrides, **overrides}, graph.filename)


def _expand(root: YMap, header: SpecHeader, expander: Expander) -> tuple[list[Entry], int]:
    input_node: YMap = root.items["input"]  # type: ignore[assignment]
    shape = expander.substitute(input_node.items["shape"], expander.root_env, "input.shape")
    fields = YMap(
        input_node.location, {"shape": shape}, {"shape": input_node.key_locations["shape"]}
    )
    entry = Entry(0, "input", fields, "input", root.key_locations["input"], name=header.input.name)
    if name_problem(header.input.name):
        expander.error(name_problem(header.input.name), input_node.location, "input.name")  # type: ignore[arg-type]
    expander.entries.append(entry)
    scope = _Scope(prefix="", input_uid=0, names={header.input.name: 0})
    last = expander.expand_list(root.items["layers"], expander.root_env, scope, "layers", ())
    output = last if last is not None else 0
    _assign_names(expander.entries)
    _check_unique(expander)
    if header.output is not None:
        # The output may name any node, auto-named ones included (as they appear in `check`).
        names = {entry.name: entry.uid for entry in expander.entries}
        if header.output in names:
            output = names[header.output]
        else:
            where = root.items["output"].location
            hint = did_you_mean(header.output, names)
            expander.error(f"unknown output '{header.output}'", where, "output", hint)
    return expander.entries, output


def _assign_names(entries: list[Entry]) -> None:
    """Unnamed layers get Keras-style names (conv2d, conv2d_1, ...), never clashing with given ones."""
    used = {entry.name for entry in entries if entry.name}
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.name:
            continue
        count = counts.get(entry.kind, 0)
        while (candidate := entry.kind if count == 0 else f"{entry.kind}_{count}") in used:
            count += 1
        counts[entry.kind] = count + 1
        used.add(candidate)
        entry.name = candidate


def _check_unique(expander: Expander) -> None:
    first: dict[str, Entry] = {}
    reported = {d.path for d in expander.diagnostics}  # a clash within one list, said once
    for entry in expander.entries:
        if entry.name in first and f"{entry.path}.name" not in reported:
            where = entry.name_location or entry.location
            expander.error(
                f"duplicate layer name '{entry.name}' (also at {first[entry.name].location})",
                where,
                f"{entry.path}.name",
            )
        elif entry.name not in first:
            first[entry.name] = entry  # type: ignore[index]


def _validate_entries(entries: list[Entry], expander: Expander) -> dict[int, Node]:
    nodes: dict[int, Node] = {}
    problems: list[Diagnostic] = []
    for entry in entries:
        cls = OPS.get(entry.kind)
        path = "input" if entry.uid == 0 else f"{entry.path}.{entry.kind}"
        if cls is None or (entry.kind == "input" and entry.uid != 0):
            choices = [k for k in OPS if k != "input"] + list(expander.blocks)
            problems.append(
                Diagnostic(
                    f"unknown op or block '{entry.kind}'",
                    entry.location,
                    path,
                    did_you_mean(entry.kind, choices),
                )
            )
            continue
        count = len(entry.inputs)
        if count < cls.min_inputs or (cls.max_inputs is not None and count > cls.max_inputs):
            want = (
                f"{cls.min_inputs}"
                if cls.min_inputs == cls.max_inputs
                else f"at least {cls.min_inputs}"
            )
            problems.append(
                Diagnostic(
                    f"'{entry.kind}' takes {want} input(s), got {count}", entry.location, entry.path
                )
            )
            continue
        try:
            # NOTE: strict, so that `true` or "3" is never read as the int 1 or 3.
            op = cls.model_validate(to_python(entry.fields), strict=True)
        except ValidationError as err:
            problems += diagnostics_from(err, entry.fields, path, cls)
            continue
        locations, refs = _field_info(entry.fields)
        source = Source(entry.location, path, locations)
        inputs = tuple(entries[uid].name for uid in entry.inputs)  # type: ignore[misc]
        nodes[entry.uid] = Node(entry.name, op, inputs, source, refs)  # type: ignore[arg-type]
    if problems:
        raise SpecError(problems)
    return nodes


def _field_info(fields: YMap) -> tuple[dict[str, Any], dict[str, str]]:
    """Locations of every (dotted) field and the params that whole fields were taken from."""
    locations: dict[str, Location] = {}
    refs: dict[str, str] = {}

    def walk(node: YNode, path: str) -> None:
        locations[path] = node.location
        if node.param:
            refs[path] = node.param
        if isinstance(node, YMap):
            for key, child in node.items.items():
                walk(child, f"{path}.{key}")
        elif isinstance(node, YSeq):
            for index, child in enumerate(node.items):
                walk(child, f"{path}.{index}")

    for key, child in fields.items.items():
        walk(child, key)
    return locations, refs


def _topological(nodes: dict[int, Node], entries: list[Entry], output: int) -> tuple[Node, ...]:
    """Definition order where possible (Kahn's algorithm, ties by position); cycles and layers
    that never reach the output are errors."""
    readers: dict[int, list[int]] = {uid: [] for uid in nodes}
    waiting = {uid: len(entries[uid].inputs) for uid in nodes}
    for uid in nodes:
        for source in entries[uid].inputs:
            readers[source].append(uid)
    ready = [uid for uid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        uid = heapq.heappop(ready)
        order.append(uid)
        for reader in readers[uid]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, reader)
    if len(order) < len(nodes):
        stuck = [entries[uid] for uid in nodes if waiting[uid] > 0]
        names = ", ".join(e.name for e in stuck[:6])  # type: ignore[misc]
        raise SpecError(
            [Diagnostic(f"cycle among layers {names}", stuck[0].location, stuck[0].path)]
        )
    live = _ancestors(output, entries)
    dead = [entries[uid] for uid in order if uid not in live]
    if dead:
        raise SpecError(
            [
                Diagnostic(
                    f"layer '{e.name}' does not feed the output",
                    e.location,
                    e.path,
                    "remove it or wire it in",
                )
                for e in dead
            ]
        )
    return tuple(nodes[uid] for uid in order)


def _ancestors(output: int, entries: list[Entry]) -> set[int]:
    seen = {output}
    stack = [output]
    while stack:
        for source in entries[stack.pop()].inputs:
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return seen
