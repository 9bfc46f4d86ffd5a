"""The top level of a spec file, validated by pydantic before anything is expanded."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Unicode categories that print nothing or move the cursor: control (Cc), format (Cf: zero
# width, bidi overrides as in "Trojan source"), surrogate (Cs), private (Co), unassigned (Cn),
# line and paragraph separators (Zl, Zp). Generated code quotes docs, so they must be text.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _printable(text: str) -> str:
    for index, char in enumerate(text):
        if char not in "\n\t" and unicodedata.category(char) in _INVISIBLE:
            raise ValueError(
                f"character U+{ord(char):04X} (at offset {index}) is not printable text; "
                "a doc may hold letters, symbols, spaces, tabs and newlines"
            )
    return text


Text = Annotated[str, AfterValidator(_printable)]


class BlockDef(BaseModel):
    """A reusable sub-graph: typed arguments and a list of layers (a chain unless wired)."""

    model_config = ConfigDict(extra="forbid")
    doc: Text = Field("", description="What the block is, for readers and generated code.")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Argument -> default value, or a type name (int, float, str, bool, list, "
        "any) for a required argument.",
    )
    inputs: list[str] | None = Field(
        None,
        min_length=1,
        description="Names of the block's inputs, when it takes several (a call passes them with "
        "`inputs: [a, b]`, in this order); the chain starts from the first. Without it the "
        "block has one input, called `input`.",
    )
    layers: Annotated[list[Any], Field(min_length=1)]


class InputDef(BaseModel):
    """The model input."""

    model_config = ConfigDict(extra="forbid")
    shape: Any = Field(description="Shape without batch, channels_last, e.g. [224, 224, 3].")
    name: str = "input"


class SpecHeader(BaseModel):
    """A whole spec file."""

    model_config = ConfigDict(extra="forbid")
    archspec: Literal[1] = Field(description="Spec language version.")
    name: str = Field(description="Network name (an identifier).")
    doc: Text = Field("", description="One paragraph on what the network is and where from.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Overridable params, typed by their defaults."
    )
    input: InputDef
    blocks: dict[str, BlockDef] = Field(default_factory=dict)
    layers: Annotated[list[Any], Field(min_length=1)]
    output: str | None = Field(None, description="Output node; default the last layer.")
    # NOTE: a plain mapping here, validated as a Recipe by load.training_problems only when a
    # spec has one, so that checking a spec without training never imports the recipe table.
    training: dict[str, Any] | None = Field(
        None, description="How to train the network (archspec train); see archspec.training."
    )
    outputs: list[str] | None = Field(
        None,
        min_length=1,
        description="Several output nodes, in the order every backend returns them (instead of "
        "`output`).",
    )
