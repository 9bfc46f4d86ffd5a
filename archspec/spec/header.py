"""The top level of a spec file, validated by pydantic before anything is expanded."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class BlockDef(BaseModel):
    """A reusable sub-graph: typed arguments and a list of layers (a chain unless wired)."""

    model_config = ConfigDict(extra="forbid")
    doc: str = Field("", description="What the block is, for readers and generated code.")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Argument -> default value, or a type name (int, float, str, bool, list, "
        "any) for a required argument.",
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
    doc: str = Field("", description="One paragraph on what the network is and where from.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Overridable params, typed by their defaults."
    )
    input: InputDef
    blocks: dict[str, BlockDef] = Field(default_factory=dict)
    layers: Annotated[list[Any], Field(min_length=1)]
    output: str | None = Field(None, description="Output node; default the last layer.")
