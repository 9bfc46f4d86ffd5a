"""The PyTorch backend: generated ``nn.Module`` source and the live module it defines.

``generate`` needs no framework; the rest imports torch on first use. Tensors are channels
first (``(N, C, H, W)``); weights move to and from the IR's (Keras's) layout through
``get_weights`` / ``set_weights``, which ``archspec.transfer_weights`` uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archspec.backends.torch.source import generate
from archspec.passes.check import Report

# What this backend writes (``archspec build`` refuses other extensions, e.g. ``--save x.keras``).
FILE_SUFFIXES = {"source": (".py",), "model": (".pt", ".pth")}


def build(report: Report) -> Any:
    """The live ``nn.Module``: the generated source, executed; carries ``archspec_report``."""
    from archspec.backends.torch import live

    return live.build(report)


def save(model: Any, path: str | Path) -> None:
    """Write the model's state dict (``torch.save``), loadable with ``strict=True``."""
    from archspec.backends.torch import live

    live.save(model, path)


def count_params(model: Any) -> tuple[int, int]:
    """(parameters + buffers, parameters), ``num_batches_tracked`` left out."""
    from archspec.backends.torch import live

    return live.count_params(model)


def get_weights(model: Any, report: Report | None = None) -> dict[str, list[Any]]:
    """Node name -> its weights as numpy arrays in IR layout (= Keras layout and order)."""
    from archspec.backends.torch import weights

    return weights.get_weights(model, report)


def set_weights(model: Any, report: Report | None, weights: dict[str, list[Any]]) -> None:
    """Load weights in IR layout (as ``get_weights`` returns them) into ``model``."""
    from archspec.backends.torch import weights as layout

    layout.set_weights(model, report, weights)


def intermediate_outputs(model: Any, inputs: Any, report: Report | None = None) -> dict[str, Any]:
    """Every node's output for ``inputs`` (a channels-first tensor), in PyTorch layout."""
    from archspec.backends.torch import live

    return live.intermediate_outputs(model, inputs, report)


__all__ = [
    "build",
    "count_params",
    "generate",
    "get_weights",
    "intermediate_outputs",
    "save",
    "set_weights",
]
