"""``load``: spec text or file -> validated IR graph (parse, expand, validate, lower)."""

from __future__ import annotations

import errno
import heapq
import os
import stat
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archspec.diagnostics import Diagnostic, Location, SpecError, did_you_mean
from archspec.frontend.expand import Entry, Expander, _Scope, bind_params
from archspec.frontend.header import SpecHeader
from archspec.frontend.names import HELPER_SUFFIXES, name_problem
from archspec.frontend.source import YMap, YNode, YSeq, parse_yaml, to_python
from archspec.frontend.validate import diagnostics_from
from archspec.frontend.wiring import alive, output_uids
from archspec.ir.graph import Graph, Node, Source
from archspec.limits import MAX_ERRORS, MAX_SPEC_BYTES
from archspec.ops import OPS
from archspec.util.gc_pause import gc_paused


def read_source(source: str | Path) -> tuple[str | bytes, str]:
    """(text, filename) for a path or for literal YAML text."""
    if isinstance(source, Path) or _names_a_file(source):
        where = Location(str(source), 1, 1)
        try:
            data = _read_regular_file(Path(source))
        except OSError as err:
            raise SpecError([Diagnostic(f"cannot read spec: {err.strerror}", where)]) from None
        except ValueError:  # a NUL in the name
            raise SpecError([Diagnostic("cannot read spec: a NUL in its name", where)]) from None
        if len(data) > MAX_SPEC_BYTES:
            message = f"spec file larger than {MAX_SPEC_BYTES // 2**20} MiB; refusing to read it"
            raise SpecError([Diagnostic(message, where)])
        return data, str(source)
    if len(source) > MAX_SPEC_BYTES:
        message = f"spec text longer than {MAX_SPEC_BYTES // 2**20} MiB; refusing to parse it"
        raise SpecError([Diagnostic(message, Location("<spec>", 1, 1))])
    return source, "<spec>"


def _read_regular_file(path: Path) -> bytes:
    """At most one byte more than a spec may hold, from a regular file only.

    Opened without blocking and checked before reading: a FIFO or a device would block or
    never end (``/dev/zero``).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return file.read(MAX_SPEC_BYTES + 1)


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
        header = SpecHeader.model_validate(_header_data(root), strict=True)
    except ValidationError as err:
        problems = diagnostics_from(err, root, "", SpecHeader) + training_problems(root)
        raise SpecError(problems) from None
    if header.training is not None and (problems := training_problems(root)):
        raise SpecError(problems)
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
    entries, outputs = _expand(root, header, expander)
    if expander.diagnostics:
        raise SpecError(_with_field_problems(expander, entries))
    nodes = _validate_entries(entries, expander)
    values = {name: to_python(node) for name, node in params.items()}
    ordered = _topological(nodes, entries, outputs)
    text = text.decode("utf-8") if isinstance(text, bytes) else text
    return Graph(
        header.name,
        header.doc,
        ordered,
        nodes[outputs[0]].name,
        values,
        filename,
        text,
        dict(overrides or {}),
        outputs=tuple(nodes[uid].name for uid in outputs),
    )


def reload_with(graph: Graph, **overrides: Any) -> Graph:
    """The same spec loaded again with some params changed."""
    return load(graph.source_text, {**graph.overrides, **overrides}, graph.filename)


def _header_data(root: YMap) -> dict[str, Any]:
    """The header's plain data. The header takes ``layers`` as any non-empty list (the layers
    are validated one by one later), so a list of layers goes in as placeholders: converting
    50,000 layers to plain data only to accept them is most of the header's cost."""
    return {
        key: [None] * len(node.items)
        if key == "layers" and isinstance(node, YSeq)
        else to_python(node)
        for key, node in root.items.items()
    }


def _expand(root: YMap, header: SpecHeader, expander: Expander) -> tuple[list[Entry], list[int]]:
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
    _assign_names(expander.entries)
    _check_unique(expander)
    # An output may name any node, auto-named ones included (as they appear in `check`).
    names = {entry.name: entry.uid for entry in expander.entries}
    outputs = output_uids(expander, root, names, last if last is not None else 0)  # type: ignore[arg-type]
    return expander.entries, outputs


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
    for entry in expander.entries:
        name = entry.name or ""
        for suffix in HELPER_SUFFIXES:
            owner = first.get(name.removesuffix(suffix)) if name.endswith(suffix) else None
            if owner is not None and owner is not entry:
                expander.error(
                    f"layer name '{name}' is reserved for a helper layer of '{owner.name}' "
                    "(a backend may pad in a layer of that name)",
                    entry.name_location or entry.location,
                    f"{entry.path}.name",
                    f"rename it, e.g. '{name}2'",
                )


def _with_field_problems(expander: Expander, entries: list[Entry]) -> list[Diagnostic]:
    """The expansion's problems and those of the fields that did expand, in source order: one
    mistake (an empty `- ` item) must not hide the others."""
    problems = list(expander.diagnostics)
    if len(problems) < MAX_ERRORS:
        try:
            _validate_entries(entries, expander, wired=False)
        except SpecError as err:
            # A value already reported (a failed expression, an undefined `$name` left in
            # place) is not reported again.
            failed = expander.failed_values | {d.location for d in problems}
            problems += [d for d in err.diagnostics if d.location not in failed]
    return sorted(problems, key=lambda d: (d.location.line, d.location.col))


def _validate_entries(
    entries: list[Entry], expander: Expander, wired: bool = True
) -> dict[int, Node]:
    """Each entry's fields through its op's pydantic model; ``wired=False`` skips the input
    counts (after expansion errors, a missing input is a consequence, not a new problem)."""
    nodes: dict[int, Node] = {}
    problems: list[Diagnostic] = []
    validated: dict[tuple[type, str], Any] = {}
    for entry in entries:
        if (
            problems
            and len({(d.location, d.message) for d in problems[-MAX_ERRORS:]}) >= MAX_ERRORS
        ):
            break  # "too many errors": SpecError says so
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
        if wired and (
            count < cls.min_inputs or (cls.max_inputs is not None and count > cls.max_inputs)
        ):
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
        plain = to_python(entry.fields)
        # NOTE: ops are frozen, so layers with the same fields share one validated op (a long
        # spec repeats a few); the repr tells 1, 1.0 and true apart.
        key = (cls, repr(plain))
        op = validated.get(key)
        if op is None:
            try:
                # NOTE: strict, so that `true` or "3" is never read as the int 1 or 3.
                op = validated[key] = cls.model_validate(plain, strict=True)
            except ValidationError as err:
                found = diagnostics_from(err, entry.fields, path, cls)
                problems += [replace(d, context=entry.context) for d in found]
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


def _topological(
    nodes: dict[int, Node], entries: list[Entry], outputs: list[int]
) -> tuple[Node, ...]:
    """Definition order where possible (Kahn's algorithm, ties by position); cycles and layers
    that reach no output are errors."""
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
    live = alive(outputs, entries)
    dead = [entries[uid] for uid in order if uid not in live]
    feeds = "the output" if len(outputs) == 1 else "any output"
    if dead:
        raise SpecError(
            [
                Diagnostic(
                    f"layer '{e.name}' does not feed {feeds}",
                    e.location,
                    e.path,
                    "remove it or wire it in",
                )
                for e in dead
            ]
        )
    return tuple(nodes[uid] for uid in order)


def training_problems(root: YMap) -> list[Diagnostic]:
    """The located problems of the spec's ``training:`` recipe (none when it has none)."""
    node = root.get("training")
    if not isinstance(node, YMap):
        return []  # absent, or not a mapping (the header reports that)
    from archspec.training.recipe import Recipe

    try:
        Recipe.model_validate(to_python(node), strict=True)
    except ValidationError as err:
        return diagnostics_from(err, node, "training", Recipe)
    return []
