"""What every reader produces: a framework-free list of imported layers, before it is written.

A reader turns a Keras archive, an ONNX file or a PyTorch program into an ``Imported`` model:
archspec op kinds with spec fields, wiring by name and weights already in the IR's layout
(Keras's layout and order). The writer turns that into spec text; nothing here knows a format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archspec.frontend.names import HELPER_SUFFIXES


class ModelImportError(Exception):
    """A model archspec cannot express exactly: names the layer, its class and where it is.

    Raised instead of writing a partial or approximate spec.
    """

    def __init__(self, message: str, layer: str = "", cls: str = "", where: str = "") -> None:
        self.layer, self.cls, self.where, self.reason = layer, cls, where, message
        located = f"layer {layer!r} ({cls}, {where}): " if layer else ""
        super().__init__(located + message)


@dataclass(frozen=True)
class Origin:
    """Where an imported layer came from: its name, class and position in the source."""

    name: str
    cls: str
    where: str

    def error(self, message: str) -> ModelImportError:
        return ModelImportError(message, self.name, self.cls, self.where)


@dataclass
class Layer:
    """One node to be: an archspec op kind, its spec fields, inputs by name, IR-layout weights."""

    name: str
    kind: str
    fields: dict[str, Any]
    inputs: list[str]
    origin: Origin
    weights: list[Any] = field(default_factory=list)


@dataclass
class Imported:
    """A whole imported model: its input, its layers in topological order, its output."""

    name: str
    source: str  # what it was read from, e.g. "resnet50.keras (Keras Functional model)"
    input_name: str
    input_shape: list[int]
    layers: list[Layer]
    output: str
    notes: list[str] = field(default_factory=list)
    # every output, the first being ``output`` (set by readers of several-output models)
    extra_outputs: list[str] = field(default_factory=list)

    @property
    def outputs(self) -> list[str]:
        return [self.output, *self.extra_outputs]

    def weights(self) -> dict[str, list[Any]]:
        """Node name -> its weights in IR layout, for the layers that own any."""
        return {layer.name: layer.weights for layer in self.layers if layer.weights}


def several_outputs(outputs: list[str], source: str) -> tuple[str, list[str]]:
    """A model's outputs (layer names, in order) as ``Imported``'s ``output`` and
    ``extra_outputs``; refused when a spec's ``outputs:`` cannot say them."""
    if not outputs:
        raise ModelImportError(f"{source}: the model has no output")
    if "input" in outputs:
        raise ModelImportError(f"{source}: the model returns its input; outputs name layers")
    if len(set(outputs)) != len(outputs):
        raise ModelImportError(f"{source}: the model returns one layer twice ({outputs})")
    return outputs[0], outputs[1:]


def fold_global_pool(imported: Imported) -> None:
    """``adaptive_avg_pool2d(1)`` then ``flatten`` (torchvision's head) is one global pool."""
    users: dict[str, list[Layer]] = {}
    for layer in imported.layers:
        for name in layer.inputs:
            users.setdefault(name, []).append(layer)
    dropped: dict[str, str] = {}
    for layer in imported.layers:
        consumers = users.get(layer.name, [])
        if (
            layer.kind == "adaptive_avg_pool2d"
            and layer.fields.get("output_size") == 1
            and len(consumers) == 1
            and consumers[0].kind == "flatten"
            and imported.output != layer.name
        ):
            layer.kind, layer.fields = "global_avg_pool2d", {}
            dropped[consumers[0].name] = layer.name
    imported.layers = [x for x in imported.layers if x.name not in dropped]
    for layer in imported.layers:
        layer.inputs = [dropped.get(n, n) for n in layer.inputs]
    imported.output = dropped.get(imported.output, imported.output)
    imported.extra_outputs = [dropped.get(n, n) for n in imported.extra_outputs]


def avoid_helper_names(imported: Imported) -> None:
    """A layer named like a backend's helper of another (``conv1_pad`` beside ``conv1``) gets a
    ``2``: specs reserve those names."""
    names = {layer.name for layer in imported.layers}
    renamed: dict[str, str] = {}
    for layer in imported.layers:
        for suffix in HELPER_SUFFIXES:
            if layer.name.endswith(suffix) and layer.name.removesuffix(suffix) in names:
                new = layer.name + "2"
                while new in names:
                    new += "2"
                renamed[layer.name] = new
                names.add(new)
                layer.name = new
    for layer in imported.layers:
        layer.inputs = [renamed.get(n, n) for n in layer.inputs]
    imported.output = renamed.get(imported.output, imported.output)
    imported.extra_outputs = [renamed.get(n, n) for n in imported.extra_outputs]
