"""The JSON Schema of the spec language (``archspec schema``), for editors (yaml-language-server).

Generated from the same pydantic models the loader validates with (the spec header and every op
in ``archspec.ops.OPS``), so it cannot drift from the language. Two things the models do not say
are added here: any value may be a ``$param`` reference (substituted before validation), and a
layer entry is one mapping holding exactly one op or block key plus optional ``name``,
``inputs`` and ``repeat``. Block calls are any other identifier key whose value is a mapping of
arguments. The loader stays the authority: it checks what a schema cannot (which blocks exist,
that an entry has exactly one op key, that names are unique).
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from pydantic.json_schema import models_json_schema

from archspec.frontend.expand import RESERVED_KEYS
from archspec.frontend.expressions import FUNCTIONS
from archspec.frontend.header import SpecHeader
from archspec.frontend.names import IDENTIFIER_RE
from archspec.ops import OPS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# NOTE: a URN names the schema of spec language version 1 without claiming a web address; editors
# load the file a spec's `# yaml-language-server: $schema=` line points at (`archspec init`).
SCHEMA_ID = "urn:archspec:spec-schema:1"
PARAM_REF = {
    "type": "string",
    # $name, ${name} inside a string, or an expression (`$width * 2`, `max(1, $c // 4)`).
    "pattern": r"\$\{?[A-Za-z_]|^\s*(" + "|".join(FUNCTIONS) + r")\s*\(",
    "description": "A spec param or block argument: $name, ${name} inside a string, or an "
    "expression over them ($width * 2).",
}
REF = {"$ref": "#/$defs/ParamRef"}
_META = ("title", "description", "default", "examples")


def def_name(kind: str) -> str:
    """The ``$defs`` key of an op's fields: ``op.conv2d``."""
    return f"op.{kind}"


def _with_ref(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or a param reference; metadata stays outside so editors still show it."""
    if not schema:
        return schema
    meta = {k: v for k, v in schema.items() if k in _META}
    rest = {k: v for k, v in schema.items() if k not in _META}
    if set(rest) == {"anyOf"}:
        return {**meta, "anyOf": [*rest["anyOf"], REF]}
    return {**meta, "anyOf": [rest, REF]}


def allow_refs(schema: Any) -> Any:
    """Let every field value, list item and map value inside ``schema`` be a ``$param``."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _with_ref(allow_refs(v)) for k, v in out["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _with_ref(allow_refs(out[key]))
    if isinstance(out.get("prefixItems"), list):
        out["prefixItems"] = [_with_ref(allow_refs(v)) for v in out["prefixItems"]]
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [allow_refs(v) for v in out["anyOf"]]
    return out


def op_schemas() -> dict[str, dict[str, Any]]:
    """``$defs`` for every op (keyed ``op.<kind>``) and the models they share."""
    pairs = [(cls, "validation") for cls in OPS.values()]
    keys, found = models_json_schema(pairs, ref_template="#/$defs/{model}")
    defs: dict[str, Any] = found.get("$defs", {})
    renamed = {defs_key(keys[(cls, "validation")]["$ref"]): def_name(k) for k, cls in OPS.items()}
    text = json.dumps(defs)
    for old, new in renamed.items():
        text = text.replace(f'"#/$defs/{old}"', f'"#/$defs/{new}"')
    defs = json.loads(text)
    out = {renamed.get(name, name): allow_refs(value) for name, value in defs.items()}
    for kind, cls in OPS.items():
        out[def_name(kind)]["title"] = kind
        out[def_name(kind)]["description"] = inspect.cleandoc(cls.__doc__ or "")
    return dict(sorted(out.items()))


def defs_key(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def layer_schema() -> dict[str, Any]:
    """One layer entry: an op key (or a block call), with optional name, inputs and repeat."""
    properties: dict[str, Any] = {}
    for kind, cls in OPS.items():
        if kind == "input":
            continue
        summary = inspect.cleandoc(cls.__doc__ or kind).splitlines()[0]
        properties[kind] = {
            "description": summary,
            "anyOf": [{"$ref": f"#/$defs/{def_name(kind)}"}, {"type": "null"}, REF],
        }
    properties["name"] = {
        "type": "string",
        "description": "Layer name (unique; a block call's name prefixes its layers).",
    }
    properties["inputs"] = {
        "description": "Names of the layers this one reads (default: the layer before).",
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
    }
    properties["repeat"] = {
        "description": "Unroll this entry N times in a chain, named name_1 .. name_N "
        "({count: N, first: 0} numbers them from 0, as nn.Sequential does; separator: '' "
        "names them name1 .. nameN).",
        "anyOf": [
            {"type": "integer", "minimum": 1},
            REF,
            {
                "type": "object",
                "properties": {
                    "count": {"anyOf": [{"type": "integer", "minimum": 1}, REF]},
                    "first": {"anyOf": [{"type": "integer", "minimum": 0}, REF]},
                    "separator": {"enum": ["_", ""]},
                },
                "required": ["count"],
                "additionalProperties": False,
            },
        ],
    }
    taken = "|".join(re.escape(k) for k in [*OPS, *RESERVED_KEYS])
    block_key = f"^(?!(?:{taken})$){IDENTIFIER_RE.pattern[1:]}"
    return {
        "type": "object",
        "description": "One layer: exactly one op or block key, plus optional name, inputs, "
        "repeat.",
        "properties": properties,
        "patternProperties": {
            block_key: {
                "description": "A block call: the block's arguments.",
                "type": ["object", "null"],
            }
        },
        "additionalProperties": False,
        # At least one key that is not name/inputs/repeat, i.e. an op or a block call.
        "not": {"propertyNames": {"enum": list(RESERVED_KEYS)}},
    }


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole spec file."""
    from archspec.training.recipe import Recipe

    header = SpecHeader.model_json_schema(ref_template="#/$defs/{model}")
    defs = header.pop("$defs", {})
    recipe = Recipe.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(recipe.pop("$defs", {}))
    defs["Recipe"] = recipe
    training = header["properties"]["training"]
    header["properties"]["training"] = {
        "anyOf": [{"$ref": "#/$defs/Recipe"}, {"type": "null"}],
        **{k: v for k, v in training.items() if k not in ("anyOf", "title")},
    }
    defs.update(op_schemas())
    identifiers = {"pattern": IDENTIFIER_RE.pattern}
    header["properties"]["layers"]["items"] = {"$ref": "#/$defs/Layer"}
    header["properties"]["params"]["propertyNames"] = identifiers
    header["properties"]["blocks"]["propertyNames"] = identifiers
    block = defs["BlockDef"]
    block["properties"]["layers"]["items"] = {"$ref": "#/$defs/Layer"}
    block["properties"]["args"]["propertyNames"] = identifiers
    # The input's shape is validated by the input op; its schema already admits $params.
    defs["InputDef"]["properties"]["shape"] = defs[def_name("input")]["properties"]["shape"]
    defs["Layer"] = layer_schema()
    defs["ParamRef"] = PARAM_REF
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "archspec spec",
        "description": "A neural network spec for archspec (generated by `archspec schema`; "
        "do not edit).",
        **header,
        "$defs": dict(sorted(defs.items())),
    }


def schema_text() -> str:
    """The schema exactly as ``archspec schema`` prints it (and archspec.schema.json holds it)."""
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
