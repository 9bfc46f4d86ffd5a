"""The Keras 3 backend: generated source and a live ``keras.Model`` from a checked IR.

``generate`` needs no framework; the rest imports Keras (TensorFlow) on first use. Saved models
that use archspec's custom layers (``local_response_norm``, PyTorch-style max-pool padding)
load with ``archspec.backends.keras.load(path)``, or with ``keras.models.load_model`` after
``import archspec.backends.keras.custom_layers`` (or the generated module).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archspec.backends.keras.source import generate
from archspec.passes.check import Report

# What this backend writes (``archspec build`` refuses other extensions, e.g. ``--save x.h5``).
FILE_SUFFIXES = {"source": (".py",), "model": (".keras",)}


def build(report: Report) -> Any:
    """The live ``keras.Model``: the generated source, executed; carries ``archspec_report``."""
    from archspec.backends.keras import live

    return live.build(report)


def save(model: Any, path: str | Path) -> None:
    """Write ``model`` to a ``.keras`` file."""
    from archspec.backends.keras import live

    live.save(model, path)


def load(path: str | Path) -> Any:
    """Read a ``.keras`` file back, archspec's custom layers registered."""
    from archspec.backends.keras import live

    return live.load(path)


def count_params(model: Any) -> tuple[int, int]:
    """(total, trainable) parameters as Keras counts them."""
    from archspec.backends.keras import live

    return live.count_params(model)


def get_weights(model: Any, report: Report | None = None) -> dict[str, list[Any]]:
    """Node name -> its weights as numpy arrays in IR layout (= Keras layout and order)."""
    from archspec.backends.keras import weights

    return weights.get_weights(model, report)


def set_weights(model: Any, report: Report | None, weights: dict[str, list[Any]]) -> None:
    """Load weights in IR layout (as ``get_weights`` returns them) into ``model``."""
    from archspec.backends.keras import weights as layout

    layout.set_weights(model, report, weights)


__all__ = ["build", "count_params", "generate", "get_weights", "load", "save", "set_weights"]
