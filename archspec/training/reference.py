"""The recipe reference (``archspec ops training``, ``archspec ops optimizer.adam``), generated
from the recipe table (``archspec.training.recipe``) so it cannot drift from what is validated.

Every optimizer, schedule, callback, augmentation, loss and metric is listed with the first line
of its documented meaning and its fields (type, default); one entry in full adds the whole
docstring and each field's description. Types are read from the same pydantic JSON Schema the
recipe is validated with. Framework-free.
"""

from __future__ import annotations

import inspect
import textwrap

from pydantic import BaseModel

from archspec.ops.reference import _columns, type_text, yaml_value
from archspec.training.recipe import (
    AUGMENTATIONS,
    CALLBACKS,
    OPTIMIZERS,
    SCHEDULES,
    CrossEntropy,
    DataSpec,
    Entry,
    Recipe,
    TopK,
)

TOPIC = "training"
# section -> (its recipe key, how an entry is written there, its entries)
SECTIONS: dict[str, tuple[str, str, dict[str, type[BaseModel]]]] = {
    "optimizer": ("optimizer", "optimizer: {{{kind}: {{...}}}}", dict(OPTIMIZERS)),
    "schedule": ("schedule", "schedule: {{{kind}: {{...}}}}", dict(SCHEDULES)),
    "callback": ("callbacks", "callbacks: {{{kind}: {{...}}}}", dict(CALLBACKS)),
    "augmentation": ("augmentation", "augmentation: [{{{kind}: {{...}}}}]", dict(AUGMENTATIONS)),
    "loss": ("loss", "loss: {{{kind}: {{...}}}}", {CrossEntropy.kind: CrossEntropy}),
    "metric": ("metrics", "metrics: [{kind}]", {"accuracy": Entry, TopK.kind: TopK}),
    "data": ("data", "data: {{...}}", {"data": DataSpec}),
}
METRIC_DOCS = {"accuracy": "Top-1 accuracy (the label has the highest score)."}
USAGE = {"metric.top_k": "metrics: [accuracy, {top_k: 5}]"}


def entries() -> dict[str, type[BaseModel]]:
    """Every reference entry by its name: ``optimizer.adam``, ``metric.top_k``, ``data``."""
    found: dict[str, type[BaseModel]] = {}
    for section, (_, _, table) in SECTIONS.items():
        for kind, cls in table.items():
            found[section if section == kind else f"{section}.{kind}"] = cls
    return found


def _doc(name: str, cls: type[BaseModel]) -> str:
    kind = name.rsplit(".", 1)[-1]
    return METRIC_DOCS.get(kind) or inspect.cleandoc(cls.__doc__ or "")


def _fields(cls: type[BaseModel]) -> list[tuple[str, str, str, str]]:
    """(name, type, default, description) per field, required fields first."""
    if cls is Entry:
        return []
    schema = cls.model_json_schema()
    defs = schema.get("$defs", {})
    rows = []
    for name, info in cls.model_fields.items():
        default = (
            "required"
            if info.is_required()
            else yaml_value(info.get_default(call_default_factory=True))
        )
        prop = schema["properties"][name]
        rows.append((name, type_text(prop, defs), default, info.description or ""))
    return sorted(rows, key=lambda row: row[2] != "required")


def _top_level() -> list[str]:
    """The recipe's own scalar keys (the sections are listed below them)."""
    keys = ("batch_size", "epochs", "seed", "sync_batch_norm", "precision", "channels_last")
    rows = [row for row in _fields(Recipe) if row[0] in keys]
    lines = _columns([row[:3] for row in rows], "  ")
    out = []
    for line, row in zip(lines, rows, strict=True):
        out += [line, *textwrap.wrap(row[3], 96, initial_indent=" " * 6, subsequent_indent=" " * 6)]
    return out


def list_text() -> str:
    """Every recipe entry by section: its meaning's first line, then one line per field."""
    out = ["training: (a spec's `training:` section, or a --recipe file)", *_top_level(), ""]
    for section, (key, _, table) in SECTIONS.items():
        out.append(f"{key}:")
        for kind, cls in table.items():
            name = section if section == kind else f"{section}.{kind}"
            first = _doc(name, cls).split("\n\n")[0].replace("\n", " ")
            out += textwrap.wrap(
                f"{kind} - {first}", 98, initial_indent="  ", subsequent_indent="      "
            )
            rows = _fields(cls)
            if rows:
                out += _columns([row[:3] for row in rows], "      ")
        out.append("")
    out.append("`archspec ops SECTION.ENTRY` (e.g. optimizer.adam) shows one entry in full.")
    return "\n".join(out)


def entry_text(name: str) -> str:
    """One entry in full: its meaning, each field with its description, how it is written."""
    cls = entries()[name]
    section, _, kind = name.partition(".")
    key, usage, _ = SECTIONS[section]
    out = [f"{name} (training.{key})", "", textwrap.indent(_doc(name, cls), "  "), ""]
    rows = _fields(cls)
    if rows:
        lines = _columns([("name", "type", "default"), *[row[:3] for row in rows]], "  ")
        out += ["fields:", lines[0]]
        for line, row in zip(lines[1:], rows, strict=True):
            out.append(line)
            out += textwrap.wrap(row[3], 96, initial_indent=" " * 6, subsequent_indent=" " * 6)
    else:
        out.append("fields: none")
    written = USAGE.get(name) or usage.format(kind=kind or section)
    out += ["", "written:", f"  training: {{{written}}}"]
    return "\n".join(out)
