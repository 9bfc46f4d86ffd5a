"""archspec: a YAML network spec -> checked IR -> live Keras / PyTorch models and their source.

import archspec
graph = archspec.load("specs/alexnet.yaml", n_classes=1000)
report = archspec.check(graph)            # shapes and parameter counts, no framework
model = archspec.build(graph, backend="keras")
source = archspec.generate(graph, backend="torch")
"""

from __future__ import annotations

from typing import Any

from archspec.api import build, check, generate, load
from archspec.diagnostics import Diagnostic, SpecError

__version__ = "0.1.0"


def transfer_weights(source: Any, target: Any, spec: Any = None) -> None:
    """Copy weights between two models built from the same spec (Keras <-> PyTorch, either way)."""
    from archspec.transfer import transfer_weights as transfer

    transfer(source, target, spec)


__all__ = ["Diagnostic", "SpecError", "build", "check", "generate", "load", "transfer_weights"]
