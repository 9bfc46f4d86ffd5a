"""Read a ``.keras`` archive (a zip of ``config.json`` and ``model.weights.h5``) without
importing TensorFlow or Keras: the layer graph from the JSON config, the weights with h5py.

Keras's weights file names each layer by its class in snake case with a per-class counter
(``conv2d``, ``conv2d_1``, ...) in the order of the config's layer list, with the layer's
variables under ``vars/0``, ``vars/1``... in Keras's order, which is the IR's.
"""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

from archspec.importers.keras_config import Config, snake_case
from archspec.importers.model import Imported, Layer, ModelImportError, Origin
from archspec.importers.table import lookup

MODEL_CLASSES = ("Functional", "Sequential", "Model")
# Layers archspec adds in front of a conv or pool (``<node>_pad``) that fold back into it.
_PADDED = {
    "zero_padding2d": ("conv1d", "conv2d", "depthwise_conv2d", "separable_conv2d", "avg_pool2d"),
    "neg_inf_padding2d": ("max_pool2d",),
}


def read_keras(path: str | Path) -> Imported:
    """The model in a ``.keras`` archive, as imported layers with IR-layout weights."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights_blob = archive.read("model.weights.h5")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise ModelImportError(f"{path}: not a .keras archive ({err})") from None
    if config.get("class_name") not in MODEL_CLASSES:
        raise ModelImportError(
            f"{path}: the archive holds a {config.get('class_name')}, not a model"
        )
    model = config["config"]
    entries = model["layers"]
    if config["class_name"] == "Sequential":
        entries = _wire_sequential(entries, model, config.get("build_config"))
    imported = _read_graph(path, model, entries, config["class_name"])
    _attach_weights(imported, entries, weights_blob)
    fold_padding(imported)
    return imported


def _wire_sequential(entries: list[dict], model: dict, build: dict | None) -> list[dict]:
    """Sequential configs have no ``inbound_nodes``: wire each layer to the one before."""
    entries = [dict(e) for e in entries]
    if entries[0]["class_name"] != "InputLayer":
        shape = (build or {}).get("input_shape")
        if not shape:
            raise ModelImportError("a Sequential model without an input shape cannot be imported")
        entries.insert(
            0,
            {
                "class_name": "InputLayer",
                "virtual": True,
                "config": {"name": "input", "batch_shape": shape},
            },
        )
    for entry in entries:
        entry.setdefault("name", entry["config"]["name"])
    for previous, entry in itertools.pairwise(entries):
        shape = (entry.get("build_config") or {}).get("input_shape")
        entry["inbound"] = [(previous["name"], shape)]
    model["output_layers"] = [entries[-1]["name"], 0, 0]
    return entries


def _inbound(entry: dict, where: str) -> list[tuple[str, Any]]:
    """(source layer, shape) of each tensor a functional layer reads."""
    if "inbound" in entry:
        return entry["inbound"]
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise Origin(entry["name"], entry["class_name"], where).error(
            f"the layer is called {len(nodes)} times (shared weights have no archspec form)"
        )
    found: list[tuple[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            found.append((value["config"]["keras_history"][0], value["config"]["shape"]))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for node in nodes:
        walk(node.get("args", []))
        extra = {
            k: v for k, v in (node.get("kwargs") or {}).items() if k not in ("training", "mask")
        }
        if extra:
            raise Origin(entry["name"], entry["class_name"], where).error(
                f"called with arguments {sorted(extra)} that archspec cannot express"
            )
    return found


def _read_graph(path: Path, model: dict, entries: list[dict], cls: str) -> Imported:
    inputs = [e for e in entries if e["class_name"] == "InputLayer"]
    outputs = model["output_layers"]
    outputs = [outputs] if outputs and isinstance(outputs[0], str) else outputs
    if len(inputs) != 1:
        raise ModelImportError(f"{path}: {len(inputs)} inputs; archspec models have one")
    input_entry = inputs[0]
    shape = list(input_entry["config"].get("batch_shape") or input_entry["config"]["shape"])[1:]
    input_name = input_entry["config"]["name"]
    layers = []
    for index, entry in enumerate(entries):
        where = f"config.json layers[{index}]"
        origin = Origin(entry.get("name", entry["config"].get("name")), entry["class_name"], where)
        if entry["class_name"] == "InputLayer":
            continue
        if entry["class_name"] in MODEL_CLASSES:
            raise origin.error("a nested model: archspec imports flat models only")
        found = lookup("keras", entry["class_name"])
        if found is None:
            raise origin.error(
                f"archspec has no op for Keras's {entry['class_name']} "
                "(archspec import --list-supported lists what maps)"
            )
        inbound = _inbound(entry, where)
        shapes = [list(s) if s else [] for _, s in inbound]
        config = Config(entry["config"], origin, shapes)
        kind, fields = found.convert(config)
        unread = config.unread()
        if unread:
            values = ", ".join(f"{k}={entry['config'][k]!r}" for k in unread)
            raise origin.error(f"settings archspec cannot express: {values}")
        inputs_ = [name for name, _ in inbound]
        layers.append(Layer(origin.name, kind, fields, inputs_, origin))
    source = f"{path.name} (Keras {cls} model {model.get('name', '')!r})"
    name = model.get("name") or path.stem
    imported = Imported(name, source, input_name, shape, layers, outputs[0][0])
    imported.extra_outputs = [output[0] for output in outputs[1:]]
    return imported


def _attach_weights(imported: Imported, entries: list[dict], blob: bytes) -> None:
    """Each layer's variables from the h5 file, found by Keras's per-class naming."""
    import h5py
    import numpy as np

    by_name = {layer.name: layer for layer in imported.layers}
    counts: dict[str, int] = {}
    with h5py.File(io.BytesIO(blob), "r") as store:
        group = store.get("layers")
        for entry in entries:
            if entry.get("virtual"):
                continue
            base = snake_case(entry["class_name"])
            count = counts.get(base, 0)
            counts[base] = count + 1
            key = base if count == 0 else f"{base}_{count}"
            layer = by_name.get(entry.get("name", entry["config"]["name"]))
            found = group.get(key) if group is not None else None
            if layer is None or found is None:
                continue
            layer.weights = _variables(found, np)


_NON_NEGATIVE = ("relu", "relu6", "sigmoid", "hard_sigmoid", "softmax")


def _non_negative(name: str, imported: Imported) -> bool:
    """Whether a layer's values are never negative: zero padding before a max-pool is then
    the -inf padding of PyTorch's rule (archspec's Keras backend pads so)."""
    layer = next((x for x in imported.layers if x.name == name), None)
    if layer is None:
        return False
    function = layer.fields.get("function") or layer.fields.get("activation") or layer.kind
    return function in _NON_NEGATIVE


# Sub-layers whose variables make up an attention layer's, in the IR's (Keras's) order.
_PARTS = ("query_dense", "key_dense", "value_dense", "output_dense")


def _variables(group: Any, np: Any) -> list[Any]:
    """A layer's variables: its own ``vars/0, 1, ...``, else those of its attention parts."""
    own = group.get("vars")
    if own is not None and len(own):
        return [np.asarray(own[str(i)]) for i in range(len(own))]
    found = []
    for part in _PARTS:
        sub = group.get(part) or group.get("_" + part)
        if sub is not None:
            found += _variables(sub, np)
    return found


def fold_padding(imported: Imported) -> None:
    """Fold archspec's ``<node>_pad`` helper layers back into the conv or pool they pad."""
    users: dict[str, list[Layer]] = {}
    for layer in imported.layers:
        for name in layer.inputs:
            users.setdefault(name, []).append(layer)
    kept = []
    for layer in imported.layers:
        targets = _PADDED.get(layer.kind)
        if targets is None:
            kept.append(layer)
            continue
        consumers = users.get(layer.name, [])
        target = consumers[0] if len(consumers) == 1 else None
        zeros_before_max = (
            target is not None
            and layer.kind == "zero_padding2d"
            and target.kind == "max_pool2d"
            and _non_negative(layer.inputs[0], imported)
        )
        if (
            target is not None
            and layer.name == f"{target.name}_pad"
            and (target.kind in targets or zeros_before_max)
            and target.fields.get("padding") == "valid"
        ):
            target.fields["padding"] = layer.fields["padding"]
            target.inputs = list(layer.inputs)
        elif layer.kind == "zero_padding2d":
            kept.append(layer)
        else:
            raise layer.origin.error("-inf padding that does not feed a max-pool")
    imported.layers = kept
