"""Shared machinery of the source emitters.

Literals reach generated code only through ``pyrepr`` and names only through ``Namespace``, so a
spec can never inject code; templates render with ``StrictUndefined`` so a missing value fails
loudly instead of printing nothing.
"""

from __future__ import annotations

import builtins
import keyword
import linecache
import math
import re
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.diagnostics import SpecError
from archspec.frontend.load import reload_with
from archspec.passes.check import Report
from archspec.passes.check import check as check_graph

if TYPE_CHECKING:  # jinja2 loads when source is generated, not when a spec is checked
    import jinja2


def pyrepr(value: Any) -> str:
    """A Python literal for plain data (tuples for lists), formatted as ruff would."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} as a literal")
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, list | tuple):
        items = [pyrepr(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{pyrepr(k)}: {pyrepr(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}")


class Namespace:
    """Hands out unique Python identifiers: never a keyword, builtin or an already used name."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self.used = set(reserved) | set(dir(builtins))

    def claim(self, wanted: str) -> str:
        """``wanted`` itself when free, else ``wanted_1``, ``wanted_2``, ..."""
        base = wanted if wanted.isidentifier() and not keyword.iskeyword(wanted) else f"v_{wanted}"
        candidate, count = base, 0
        while candidate in self.used:
            count += 1
            candidate = f"{base}_{count}"
        self.used.add(candidate)
        return candidate


def templates_root() -> Path:
    """Templates ship inside the wheel as ``archspec/templates``; in a checkout they live in
    ``templates/`` at the top level."""
    packaged = Path(str(resources.files("archspec"))) / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "templates"


@cache
def environment(backend: str) -> jinja2.Environment:
    """The jinja2 environment for one backend's templates."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_root() / backend)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = pyrepr
    return env


def _perturbations(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value + 2, value * 2]
    if isinstance(value, float):
        return [value * 2 + 0.5, value / 2]
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return [[v + 1 for v in value], [v * 2 for v in value], [v + 7 for v in value]]
    return []


_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")  # `$name`, `${name}`, in expressions too


def free_params(report: Report, render: Callable[[Report], str]) -> tuple[str, ...]:
    """Params that generated code can keep as ``build_model`` arguments.

    ``render`` must name every param symbolically where a field takes its value. A param is
    free when changing it leaves that rendering unchanged: every effect it has goes through the
    places it is named. A param that also moves derived numbers (a PyTorch ``in_features``, a
    computed padding, a repeat count) is baked in as the value the spec was loaded with.
    """
    base = render(report)
    found = []
    # A param the spec text never references cannot change the rendering: no reload needed
    # (5,000 unused params once cost 5,000 reloads).
    referenced = set(_REFERENCE.findall(report.graph.source_text))
    for name, value in report.graph.params.items():
        if name not in referenced and _perturbations(value):
            found.append(name)
            continue
        for candidate in _perturbations(value):
            try:
                other = check_graph(reload_with(report.graph, **{name: candidate}))
            except SpecError:
                continue
            if render(other) == base:
                found.append(name)
            break
    return tuple(found)


def run_source(source: str, filename: str, module_name: str) -> dict[str, Any]:
    """Execute generated module text and return its namespace (how live models are built).

    The text is registered with ``linecache`` so that tracebacks through generated code show
    its lines. It is ours: literals went through ``pyrepr`` and names through ``Namespace``.
    """
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": module_name}
    exec(compile(source, filename, "exec"), namespace)
    return namespace
