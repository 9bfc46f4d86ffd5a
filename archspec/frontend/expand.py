"""Expansion: params substituted, blocks inlined, repeats unrolled, names assigned.

The result is a flat list of ``Entry`` (one per node) whose fields are still located YAML, so
that validation can point at the exact value at fault. Values are data: ``$name`` substitutes a
param or block argument, ``${name}`` interpolates it into a string; nothing is evaluated.
"""

from __future__ import annotations

import math
import re
import reprlib
from dataclasses import dataclass, field, replace
from typing import Any

from archspec.diagnostics import Diagnostic, Location, SpecError, did_you_mean
from archspec.frontend.budget import Budget, Hint
from archspec.frontend.computed import compute, computed_from_others, later_param_hint
from archspec.frontend.expressions import is_expression
from archspec.frontend.names import name_problem, node_name_problem
from archspec.frontend.source import MAX_INT_DIGITS, YMap, YNode, YScalar, YSeq
from archspec.frontend.wiring import block_inputs, call_sources, resolve, unknown_input_hint
from archspec.limits import MAX_NODES, MAX_SPEC_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

RESERVED_KEYS = ("name", "inputs", "repeat")
ARG_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (float, int),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "any": (object,),
}
_REF_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")  # fullmatch: "$n\n" is no reference
_SHORT_REPR = reprlib.Repr()  # bounded: an override may be deep or huge
_SHORT_REPR.maxlevel, _SHORT_REPR.maxlist, _SHORT_REPR.maxstring = 4, 12, 60
_INTERP_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Entry:
    """One node to be: its op kind, located fields, and inputs (entry ids once resolved)."""

    uid: int
    kind: str
    fields: YMap
    path: str
    location: Location
    name: str | None = None
    name_location: Location | None = None
    inputs: list[int] = field(default_factory=list)
    context: str = ""  # the block instance it was expanded in, for diagnostics


@dataclass
class _Scope:
    """Names visible to ``inputs:`` refs: the local names of one layer list."""

    prefix: str
    input_uid: int | None
    names: dict[str, int] = field(default_factory=dict)
    pending: list[tuple[Entry, str, Location, str]] = field(default_factory=list)
    # False inside a block with named inputs (`inputs: [x, skip]`): there is no `input` there.
    implicit_input: bool = True


class Expander:
    """Turns a spec's located tree into entries; collects diagnostics instead of stopping."""

    def __init__(self, params: dict[str, YNode], blocks: dict[str, YMap]) -> None:
        self.root_env = params
        self.blocks = blocks
        self.entries: list[Entry] = []
        self.diagnostics: list[Diagnostic] = []
        self.block_counts: dict[str, int] = {}
        self.block_inputs: dict[str, list[str] | None] = {}
        # Where expressions that failed (and were reported) are written: not reported again.
        self.failed_values: set[Location] = set()
        # The top-level layer being expanded: a size limit is blamed on it, not on a layer
        # deep inside the blocks it calls.
        self.top: tuple[Location, str] | None = None
        self.budget = Budget(self.diagnostics)  # bounded work: steps, values, errors

    # -- reporting -----------------------------------------------------------------------------
    def error(self, message: str, where: Location, path: str = "", hint: Hint = "") -> None:
        self.budget.report(message, where, path, hint)

    def guard_size(self, where: Location, path: str) -> None:
        if len(self.entries) - 1 > MAX_NODES:  # the input is not a layer
            where, path = self.top or (where, path)
            self.error(
                f"the spec expands to more than {MAX_NODES:,} layers; refusing it", where, path
            )
            raise SpecError(self.diagnostics)

    # -- substitution ---------------------------------------------------------------------------
    def substitute(self, node: YNode, env: dict[str, YNode], path: str) -> YNode:
        """Replace ``$name`` by the bound value, evaluate expressions (``$width * 2``) and
        interpolate ``${name}`` in strings."""
        self.budget.copied(1, self.top or (node.location, path))
        if isinstance(node, YScalar):
            value = node.value
            if not isinstance(value, str) or ("$" not in value and "(" not in value):
                return node  # most scalars: nothing to substitute
        if isinstance(node, YScalar) and isinstance(node.value, str) and "$" in node.value:
            match = _REF_RE.fullmatch(node.value)
            if match:
                bound = self.lookup(match.group(1), env, node.location, path)
                if bound is None:
                    return node
                self.budget.copied_node(bound, self.top or (node.location, path))
                return bound
            if is_expression(node.value):
                return self.compute(node, env, path)
            text = _INTERP_RE.sub(
                lambda m: self._interpolate(m.group(1), env, node, path), node.value
            )
            return YScalar(node.location, text.replace("$$", "$"))
        if isinstance(node, YScalar) and isinstance(node.value, str) and "(" in node.value:
            return self.compute(node, env, path) if is_expression(node.value) else node
        # NOTE: a collection in which nothing was substituted is returned as it is (nodes are
        # never changed once parsed; a bound $param is shared the same way).
        if isinstance(node, YSeq):
            items = [
                self.substitute(item, env, f"{path}[{i}]") for i, item in enumerate(node.items)
            ]
            if all(new is old for new, old in zip(items, node.items, strict=True)):
                return node
            return YSeq(node.location, items, param=node.param)
        if isinstance(node, YMap):
            fields = {k: self.substitute(v, env, f"{path}.{k}") for k, v in node.items.items()}
            if all(fields[k] is v for k, v in node.items.items()):
                return node
            return YMap(node.location, fields, node.key_locations, param=node.param)
        return node

    def compute(self, node: YScalar, env: dict[str, YNode], path: str) -> YNode:
        """An expression's value (see ``frontend/computed.py``); on error, reported."""
        result = compute(node, env, path)
        if isinstance(result, Diagnostic):
            if result not in self.diagnostics:  # a block's default fails once, not per call
                self.diagnostics.append(result)
            self.failed_values.add(node.location)
            return node
        return result

    def mapping(self, node: YNode, env: dict[str, YNode], path: str, what: str) -> YMap | None:
        """The substituted mapping under an op or block key (null = empty), or None, reported."""
        node = self.substitute(node, env, path)
        if isinstance(node, YScalar) and node.value is None:
            return YMap(node.location, {}, {})
        if isinstance(node, YMap):
            return node
        self.error(f"{what} must be a mapping (use {{}} for none)", node.location, path)
        return None

    def lookup(self, name: str, env: dict[str, YNode], where: Location, path: str) -> YNode | None:
        if name in env:
            return env[name]
        hint = lambda: did_you_mean(name, env)  # noqa: E731 (worked out once per problem)
        self.error(f"undefined param or argument '${name}'", where, path, hint)
        return None

    def _interpolate(self, name: str, env: dict[str, YNode], node: YNode, path: str) -> str:
        bound = self.lookup(name, env, node.location, path)
        if bound is None:
            return ""
        if not isinstance(bound, YScalar):
            self.error(
                f"'${{{name}}}' must be a scalar to interpolate into a string", node.location, path
            )
            return ""
        return str(bound.value)

    # -- layer lists ----------------------------------------------------------------------------
    def expand_list(
        self, layers: YNode, env: dict[str, YNode], scope: _Scope, path: str, stack: tuple[str, ...]
    ) -> int | None:
        """Expand one layer list as a chain; returns the id of its last entry."""
        previous = scope.input_uid
        items = layers.items if isinstance(layers, YSeq) else []
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]"
            self.budget.step(self.top if stack and self.top else (item.location, item_path))
            if not isinstance(item, YMap):
                self.error(
                    "a layer must be a mapping like '- conv2d: {filters: 64}'",
                    item.location,
                    item_path,
                )
                continue
            if not stack:
                self.top = (item.location, item_path)
            previous = self.expand_item(item, env, scope, item_path, stack, previous)
        for entry, ref, where, ref_path in scope.pending:
            target = resolve(scope, ref)
            if target is None:
                hint = lambda ref=ref: unknown_input_hint(scope, ref)  # noqa: E731
                self.error(f"unknown input '{ref}'", where, ref_path, hint)
            else:
                entry.inputs.append(target)
        scope.pending.clear()
        return previous

    def expand_item(
        self,
        item: YMap,
        env: dict[str, YNode],
        scope: _Scope,
        path: str,
        stack: tuple[str, ...],
        previous: int | None,
    ) -> int | None:
        kinds = [key for key in item.items if key not in RESERVED_KEYS]
        # Only a layer with several keys can hide a misspelt one (difflib is slow: not per layer).
        several = len(kinds) > 1
        misspelt = [key for key in kinds if did_you_mean(key, RESERVED_KEYS)] if several else []
        if misspelt:
            for key in misspelt:  # `nme:` beside an op is a misspelt `name:`, not a second op
                hint = did_you_mean(key, RESERVED_KEYS)
                self.error(f"unknown key '{key}'", item.key_locations[key], f"{path}.{key}", hint)
            return previous
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            self.error(
                f"a layer needs exactly one op or block key, found {found}", item.location, path
            )
            return previous
        kind = kinds[0]
        times, first, separator = self.repeat_count(item, env, path)
        repeated = item.get("repeat") is not None
        for repetition in range(times):
            self.budget.step(self.top or (item.location, path))
            suffix = f"{separator}{first + repetition}" if repeated else None
            name = self.local_name(item, env, path, suffix, scope.prefix)
            if kind in self.blocks:
                previous = self.expand_block(
                    kind, item, env, scope, path, stack, previous, name, repetition
                )
            else:
                previous = self.add_entry(kind, item, env, scope, path, previous, name)
            self.guard_size(item.location, path)
        return previous

    def repeat_count(self, item: YMap, env: dict[str, YNode], path: str) -> tuple[int, int, str]:
        """How many times an entry unrolls, the number its first copy's name ends with and
        what joins name and number: ``repeat: 3`` names ``x_1 .. x_3``; ``repeat: {count: 2,
        first: 0}`` names ``x_0, x_1`` (PyTorch's ``nn.Sequential``); ``separator: ""`` names
        ``block2, block3`` (Keras's ``conv2_block2``)."""
        node = item.get("repeat")
        if node is None:
            return 1, 1, "_"
        node = self.substitute(node, env, f"{path}.repeat")
        first, separator = 1, "_"
        if isinstance(node, YMap):
            first = self.repeat_first(node, f"{path}.repeat")
            separator = self.repeat_separator(node, f"{path}.repeat")
            unknown = [k for k in node.items if k not in ("count", "first", "separator")]
            for key in unknown:
                self.error(
                    f"unknown key '{key}' in repeat (count, first, separator)",
                    node.key_locations[key],
                    f"{path}.repeat.{key}",
                )
            if "count" not in node.items:
                self.error("repeat needs a count", node.location, f"{path}.repeat")
                return 1, first, separator
            node = node.items["count"]  # substituted with its mapping
        value = node.value if isinstance(node, YScalar) else None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.error(
                f"repeat must be a positive int, got {_describe(node)}",
                node.location,
                f"{path}.repeat",
            )
            return 1, first, separator
        if value > MAX_NODES:
            self.error(
                f"repeat {value:,} exceeds the limit of {MAX_NODES:,} layers",
                node.location,
                f"{path}.repeat",
            )
            raise SpecError(self.diagnostics)
        return value, first, separator

    def repeat_separator(self, node: YMap, path: str) -> str:
        found = node.get("separator")
        value = "_" if found is None else found.value if isinstance(found, YScalar) else None
        if value not in ("_", ""):
            self.error(
                f"repeat's separator must be '_' or '', got {_describe(found)}",  # type: ignore[arg-type]
                found.location,  # type: ignore[union-attr]
                f"{path}.separator",
            )
            return "_"
        return value  # type: ignore[return-value]

    def repeat_first(self, node: YMap, path: str) -> int:
        found = node.get("first")
        if found is None:
            return 1
        value = found.value if isinstance(found, YScalar) else None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.error(
                f"repeat's first must be an int >= 0, got {_describe(found)}",
                found.location,
                f"{path}.first",
            )
            return 1
        return value

    def local_name(
        self,
        item: YMap,
        env: dict[str, YNode],
        path: str,
        suffix: str | None,
        prefix: str = "",
    ) -> str | None:
        """The entry's written name (``suffix`` added when it repeats), or None."""
        node = item.get("name")
        if node is None:
            return None
        node = self.substitute(node, env, f"{path}.name")
        value = node.value if isinstance(node, YScalar) else None
        problem = (
            node_name_problem(value)
            if isinstance(value, str)
            else f"invalid name: expected a string, got {_describe(node)}"
        )
        # NOTE: inside a block a local name may start with a digit (Keras's
        # `conv2_block1_1_conv` is instance `conv2_block1`, local `1_conv`): the node's name is
        # the full one, and that must still be a valid node name.
        if problem and prefix and isinstance(value, str) and value[:1].isdigit():
            problem = problem if node_name_problem(prefix + value) else None
        if problem:
            self.error(problem, node.location, f"{path}.name")
            return None
        # NOTE: any written `repeat:` suffixes, even `repeat: 1`, so that names never depend on
        # a count that a param may change (weights are loaded by name).
        if suffix is not None and suffix[:1].isdigit() and value[-1:].isdigit():
            self.error(
                f"repeat without a separator after '{value}', which ends in a digit, is "
                f"ambiguous ('{value}{suffix}')",
                node.location,
                f"{path}.name",
            )
            return None
        return f"{value}{suffix}" if suffix is not None else value

    def register(
        self, scope: _Scope, local: str | None, uid: int, where: Location, path: str
    ) -> None:
        if local is None:
            return
        if local in scope.names and scope.names[local] != uid:
            previous = self.entries[scope.names[local]]
            self.error(
                f"duplicate name '{local}' (first used at {previous.location})",
                where,
                f"{path}.name",
            )
        scope.names[local] = uid

    def add_entry(
        self,
        kind: str,
        item: YMap,
        env: dict[str, YNode],
        scope: _Scope,
        path: str,
        previous: int | None,
        local: str | None,
    ) -> int | None:
        fields = self.mapping(item.items[kind], env, f"{path}.{kind}", f"the fields of '{kind}'")
        if fields is None:
            return previous
        entry = Entry(len(self.entries), kind, fields, path, item.key_locations[kind])
        entry.context = self.budget.where()
        if local is not None:
            entry.name = scope.prefix + local
            entry.name_location = item.get("name").location  # type: ignore[union-attr]
        self.entries.append(entry)
        self.register(scope, local, entry.uid, entry.name_location or entry.location, path)
        self.wire(entry, item, env, scope, path, previous)
        return entry.uid

    def wire(
        self,
        entry: Entry,
        item: YMap,
        env: dict[str, YNode],
        scope: _Scope,
        path: str,
        previous: int | None,
    ) -> None:
        refs = item.get("inputs")
        if refs is None:
            if previous is None:
                self.error(
                    f"'{entry.kind}' has no input: it is first and the scope has none",
                    entry.location,
                    path,
                )
            else:
                entry.inputs.append(previous)
            return
        refs = self.substitute(refs, env, f"{path}.inputs")
        ref_items = refs.items if isinstance(refs, YSeq) else [refs]
        for i, ref in enumerate(ref_items):
            if not (isinstance(ref, YScalar) and isinstance(ref.value, str)):
                self.error(
                    "inputs must be a list of layer names", ref.location, f"{path}.inputs[{i}]"
                )
                continue
            scope.pending.append((entry, ref.value, ref.location, f"{path}.inputs[{i}]"))

    # -- blocks ---------------------------------------------------------------------------------
    def expand_block(
        self,
        block: str,
        item: YMap,
        env: dict[str, YNode],
        scope: _Scope,
        path: str,
        stack: tuple[str, ...],
        previous: int | None,
        local: str | None,
        repetition: int = 0,
    ) -> int | None:
        where = item.key_locations[block]
        if block in stack:
            chain = " -> ".join([*stack, block])
            self.error(f"recursive block '{block}' ({chain})", where, path)
            return previous
        definition = self.blocks[block]
        args_env = self.bind_args(block, definition, item, env, path)
        if args_env is None:
            return previous
        if local is None:
            count = self.block_counts.get(block, 0)
            self.block_counts[block] = count + 1
            local = block if count == 0 else f"{block}_{count}"
        declared = self.declared_inputs(block, definition)
        sources = self.block_sources(block, declared, item, env, scope, path, previous, repetition)
        if sources is None:
            return previous
        names = dict(zip(declared, sources, strict=True)) if declared else {}
        inner = _Scope(scope.prefix + local + "_", sources[0], names)
        inner.implicit_input = declared is None
        start = len(self.entries)
        self.budget.context.append(f"block '{block}', instance '{scope.prefix}{local}'")
        try:
            last = self.expand_list(
                definition.items["layers"], args_env, inner, f"{path}.{block}", (*stack, block)
            )
        finally:
            self.budget.context.pop()
        if local is not None and last is not None and len(self.entries) > start:
            self.register(scope, local, last, where, path)
        return last

    def declared_inputs(self, block: str, definition: YMap) -> list[str] | None:
        """A block's named inputs (None: one, ``input``); their problems reported once."""
        if block not in self.block_inputs:
            self.block_inputs[block], problems = block_inputs(block, definition)
            self.diagnostics += problems
        return self.block_inputs[block]

    def block_sources(
        self,
        block: str,
        declared: list[str] | None,
        item: YMap,
        env: dict[str, YNode],
        scope: _Scope,
        path: str,
        previous: int | None,
        repetition: int,
    ) -> list[int] | None:
        """What a block call reads: its ``inputs:`` (the first repetition of a repeated call;
        the rest continue the chain), else the chain."""
        if repetition == 0 or item.get("inputs") is None:
            return call_sources(self, block, declared, item, env, scope, path, previous)
        if declared is not None and len(declared) > 1:
            self.error(
                f"a block with several inputs cannot repeat ('{block}' takes {len(declared)})",
                item.get("repeat").location,  # type: ignore[union-attr]
                f"{path}.repeat",
            )
            return None
        return None if previous is None else [previous]

    def bind_args(
        self, block: str, definition: YMap, item: YMap, env: dict[str, YNode], path: str
    ) -> dict[str, YNode] | None:
        declared = definition.get("args")
        declared_items = declared.items if isinstance(declared, YMap) else {}
        call = self.mapping(
            item.items[block], env, f"{path}.{block}", f"the arguments of '{block}'"
        )
        if call is None:
            return None
        ok = True
        for key in call.items:
            if key not in declared_items:
                hint = did_you_mean(key, declared_items)
                self.error(
                    f"block '{block}' has no argument '{key}'",
                    call.key_locations[key],
                    f"{path}.{block}.{key}",
                    hint,
                )
                ok = False
        bound = dict(self.root_env)
        for key, spec in declared_items.items():
            type_name = (
                spec.value if isinstance(spec, YScalar) and isinstance(spec.value, str) else None
            )
            required = type_name in ARG_TYPES
            if key in call.items:
                value = call.items[key]
                if required and not _has_type(value, ARG_TYPES[type_name]):  # type: ignore[index]
                    self.error(
                        f"argument '{key}' of block '{block}' must be {type_name}, got {_describe(value)}",
                        value.location,
                        f"{path}.{block}.{key}",
                    )
                    ok = False
                bound[key] = value
            elif required:
                self.error(
                    f"block '{block}' needs argument '{key}' ({type_name})",
                    call.location,
                    f"{path}.{block}",
                )
                ok = False
            else:
                # A default may be computed from the arguments before it (`mid: $filters // 4`).
                bound[key] = self.substitute(spec, bound, f"blocks.{block}.args.{key}")
        return bound if ok else None


def _has_type(node: YNode, types: tuple[type, ...]) -> bool:
    if object in types:
        return True
    if list in types:
        return isinstance(node, YSeq)
    if not isinstance(node, YScalar):
        return False
    value = node.value
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _describe(node: YNode) -> str:
    if isinstance(node, YScalar):
        return f"{node.value!r}"
    return "a list" if isinstance(node, YSeq) else "a mapping"


def bind_params(
    declared: YMap | None, overrides: dict[str, Any], filename: str, root: YMap
) -> tuple[dict[str, YNode], list[Diagnostic]]:
    """Params env: each default, replaced by an override of the same type; all tagged by name.

    Params are bound in order, so a default may be computed from the params before it
    (``c2: $c * 2``), overridden values included.
    """
    problems: list[Diagnostic] = []
    items = declared.items if declared else {}
    where = root.key_locations.get("params", root.location)
    env: dict[str, YNode] = {}
    computer = Expander(env, {})
    for name, node in items.items():
        problem = name_problem(name)
        if problem:
            problems.append(Diagnostic(problem, declared.key_locations[name], f"params.{name}"))  # type: ignore[union-attr]
        bound = computer.substitute(node, env, f"params.{name}")
        # NOTE: a param computed from others (`c2: $c * 2`) is written into generated code as
        # its value, never as a `build_model` argument of its own that `c` would not move.
        env[name] = bound if computed_from_others(node) else _tag(bound, name)
        if name in overrides:
            problems += _override(env, name, overrides[name], node.location)
    problems += [later_param_hint(d, items) for d in computer.diagnostics]
    for name, value in overrides.items():
        if name not in items:
            problems.append(
                Diagnostic(
                    f"override {name}={_shown(value)}: no such param",
                    where,
                    "params",
                    did_you_mean(name, items),
                )
            )
    return env, problems


def _override(env: dict[str, YNode], name: str, value: Any, where: Location) -> list[Diagnostic]:
    """Bind ``--set name=value`` in ``env`` in place of its (computed) default, if it fits."""
    default = env[name]
    problem = _override_problem(default, value)
    if problem:
        message = f"override {name}={_shown(value)}: {problem}"
        return [Diagnostic(message, where, f"params.{name}")]
    if (
        isinstance(default, YScalar)
        and isinstance(default.value, float)
        and not isinstance(value, bool)
    ):
        value = float(value)
    env[name] = _tag(_from_python(value, where), name)
    return []


def _override_problem(default: YNode, value: Any) -> str | None:
    problem = _plain_problem(value)
    if problem:
        return problem
    if isinstance(default, YScalar):
        expected = default.value
        if expected is None:
            return (
                None
                if value is None or isinstance(value, int | float | str | bool)
                else "must be a scalar"
            )
        if isinstance(expected, bool) or isinstance(value, bool):
            ok = isinstance(expected, bool) and isinstance(value, bool)
        elif isinstance(expected, float):
            ok = isinstance(value, int | float)
        else:
            ok = isinstance(value, type(expected))
        return None if ok else f"must be {type(expected).__name__} like the default {expected!r}"
    if isinstance(default, YSeq):
        if not isinstance(value, list | tuple):
            return "must be a list like the default"
        kinds = {type(item.value) for item in default.items if isinstance(item, YScalar)}
        if len(kinds) == 1 and not all(type(v) in kinds for v in value):
            return f"must be a list of {kinds.pop().__name__}"
        return None
    return None if isinstance(value, dict) else "must be a mapping like the default"


def _plain_problem(value: Any) -> str | None:
    """Why ``value`` is not what a YAML spec could hold itself (overrides get no laxer a
    reading, and no larger or deeper a value, than the file); None when it is plain data.

    Iterative and counted, so that a deep, self-referencing or alias-bomb-like value (a list
    holding the same list many times) is refused in bounded time.
    """
    stack, visited, characters = [(value, 0)], 0, 0
    while stack:
        item, depth = stack.pop()
        visited += 1
        if visited > MAX_YAML_NODES:
            return f"must hold at most {MAX_YAML_NODES:,} values"
        if depth > MAX_YAML_DEPTH:
            return f"must nest at most {MAX_YAML_DEPTH} levels deep"
        if isinstance(item, list | tuple):
            stack += [(v, depth + 1) for v in item]
        elif isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                return "must be plain data: mapping keys are strings"
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, str):
            characters += len(item)
            if characters > MAX_SPEC_BYTES:
                return f"must hold at most {MAX_SPEC_BYTES:,} characters"
        elif not _plain_scalar(item):
            return (
                "must be plain data: finite numbers (at most 30 digits), strings, lists, mappings"
            )
    return None


def _shown(value: Any) -> str:
    """A short repr of an override: bounded in depth and length, whatever it holds."""
    return _SHORT_REPR.repr(value)


def _plain_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return abs(value) < 10**MAX_INT_DIGITS
    return value is None


def _from_python(value: Any, where: Location) -> YNode:
    if isinstance(value, list | tuple):
        return YSeq(where, [_from_python(v, where) for v in value])
    if isinstance(value, dict):
        return YMap(
            where,
            {str(k): _from_python(v, where) for k, v in value.items()},
            {str(k): where for k in value},
        )
    return YScalar(where, value)


def _tag(node: YNode, name: str) -> YNode:
    return replace(node, param=name)
