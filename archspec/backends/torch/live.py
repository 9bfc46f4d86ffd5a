"""The live side of the PyTorch backend: build, save, count, move weights, trace a forward.

This module imports torch; ``archspec.backends.torch`` imports it only when a live model is
asked for, so generating source stays framework-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from archspec.backends import BackendError
from archspec.backends.torch.emit import forward_steps, input_variable, render
from archspec.backends.torch.layout import from_torch, to_torch, torch_key
from archspec.backends.torch.order import flatten_orders
from archspec.codegen.common import run_source
from archspec.passes.check import Report

Weights = dict[str, list[np.ndarray]]


def check_names(report: Report) -> None:
    """Refuse node names that would shadow an ``nn.Module`` attribute (``self.<name>`` would
    then find the method, not the layer)."""
    clashes = [layer.name for layer in report.layers[1:] if hasattr(nn.Module, layer.name)]
    if clashes:
        raise BackendError(
            f"layer name(s) {', '.join(clashes)} would shadow torch.nn.Module attributes; "
            "rename them in the spec"
        )


def build(report: Report) -> nn.Module:
    """Execute the generated source and call its ``build_model()`` (torch.fx style).

    NOTE: running the very text ``generate`` returns means the live model and the source cannot
    drift apart. The text is ours: every literal went through ``pyrepr`` and every name through
    ``Namespace``, so a spec cannot inject code.
    """
    check_names(report)
    # Every param written in as its value: the live model is built with the defaults anyway,
    # which spares free_params its re-checks of the spec.
    source = render(report, [])
    filename = f"<archspec generated: {report.name} (torch)>"
    namespace = run_source(source, filename, f"archspec_generated_{report.name}")
    model = namespace["build_model"]()
    model.archspec_report = report
    return model


def count_params(model: nn.Module) -> tuple[int, int]:
    """(parameters + buffers, parameters); BatchNorm's ``num_batches_tracked`` counters are
    bookkeeping, not parameters, and are left out."""
    parameters = sum(p.numel() for p in model.parameters())
    buffers = sum(
        b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")
    )
    return parameters + buffers, parameters


def save(model: nn.Module, path: str | Path) -> None:
    """Write the state dict, which the generated module loads with ``strict=True``."""
    torch.save(model.state_dict(), path)


def _report(model: nn.Module, report: Report | None) -> Report:
    found = report if report is not None else getattr(model, "archspec_report", None)
    if found is None:
        raise BackendError("pass the report: this model was not built by archspec")
    return found


def get_weights(model: nn.Module, report: Report | None = None) -> Weights:
    """Node name -> its weights in IR layout and order, buffers (moving statistics) included."""
    report = _report(model, report)
    state = model.state_dict()
    flattened = flatten_orders(report).dense
    found: Weights = {}
    for layer in report.layers:
        if not layer.weights:
            continue
        arrays = []
        for weight in layer.weights:
            key = f"{layer.name}.{torch_key(layer.kind, weight.name)}"
            if key not in state:
                raise BackendError(f"the torch module has no {key!r} for layer {layer.name!r}")
            value = state[key].detach().cpu().numpy()
            arrays.append(from_torch(layer, weight, value, flattened.get(layer.name)))
        found[layer.name] = arrays
    return found


def set_weights(model: nn.Module, report: Report | None, weights: Weights) -> None:
    """Load IR-layout weights (as ``get_weights`` returns them) into ``model``; every weighted
    node must be present with the IR's shapes, and no other name."""
    report = _report(model, report)
    expected = {layer.name: layer for layer in report.layers if layer.weights}
    unknown, missing = sorted(set(weights) - set(expected)), sorted(set(expected) - set(weights))
    if unknown or missing:
        raise BackendError(
            f"weights do not match the spec: missing {missing or 'none'}, unknown {unknown or 'none'}"
        )
    state = model.state_dict()
    flattened = flatten_orders(report).dense
    with torch.no_grad():
        for name, layer in expected.items():
            arrays = [np.asarray(a) for a in weights[name]]
            shapes = [tuple(a.shape) for a in arrays]
            if shapes != [w.shape for w in layer.weights]:
                raise BackendError(
                    f"layer {name!r}: weights give shapes {shapes}, the IR expects "
                    f"{[w.shape for w in layer.weights]}"
                )
            for weight, array in zip(layer.weights, arrays, strict=True):
                target = state[f"{name}.{torch_key(layer.kind, weight.name)}"]
                value = to_torch(layer, weight, array, flattened.get(name))
                if any(stride < 0 for stride in value.strides):  # from_numpy refuses these
                    value = value.copy()
                target.copy_(torch.from_numpy(value))


def intermediate_outputs(
    model: nn.Module, inputs: torch.Tensor, report: Report | None = None
) -> dict[str, torch.Tensor]:
    """Every node's output (PyTorch layout), running ``forward``'s statements one at a time.

    The statements are the generated ``forward``'s own, so this is that forward with each
    value kept, including values no module hook could see (adds, flattens, activations).
    """
    report = _report(model, report)
    scope: dict[str, Any] = {"self": model, "torch": torch, "F": F, "nn": nn}
    scope[input_variable(report)] = inputs
    found = {report.graph.input.name: inputs}
    for step in forward_steps(report):
        exec(compile(step.code, f"<forward: {step.node}>", "exec"), scope)
        found[step.node] = scope[step.var]
    return found


__all__ = [
    "build",
    "count_params",
    "get_weights",
    "intermediate_outputs",
    "save",
    "set_weights",
]
