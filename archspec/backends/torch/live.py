"""The live side of the PyTorch backend: build, save, count, move weights, trace a forward.

This module imports torch; ``archspec.backends.torch`` imports it only when a live model is
asked for, so generating source stays framework-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from archspec.backends import BackendError, model_report
from archspec.backends.torch.source import forward_steps, input_variable, render
from archspec.codegen.common import run_source
from archspec.passes.check import Report


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


def intermediate_outputs(
    model: nn.Module, inputs: torch.Tensor, report: Report | None = None
) -> dict[str, torch.Tensor]:
    """Every node's output (PyTorch layout), running ``forward``'s statements one at a time.

    The statements are the generated ``forward``'s own, so this is that forward with each
    value kept, including values no module hook could see (adds, flattens, activations).
    """
    report = model_report(model, report)
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
    "intermediate_outputs",
    "save",
]
