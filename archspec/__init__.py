"""archspec: a YAML network spec -> checked IR -> live Keras / PyTorch models and their source.

import archspec
graph = archspec.load("specs/alexnet.yaml", n_classes=1000)
report = archspec.check(graph)            # shapes and parameter counts, no framework
model = archspec.build(graph, backend="keras")
source = archspec.generate(graph, backend="torch")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# NOTE: the public names are imported on first use (PEP 562), so that `archspec --help` and
# `import archspec.cli` do not pay for pydantic and the op table; `archspec check` imports
# only what it runs. name -> the module that defines it.
_LAZY = {
    "build": "archspec.api",
    "check": "archspec.api",
    "generate": "archspec.api",
    "load": "archspec.api",
    "train": "archspec.training.run",
    "import_model": "archspec.importers.library",
    "load_weights": "archspec.importers.library",
    "Diagnostic": "archspec.diagnostics",
    "SpecError": "archspec.diagnostics",
}

if TYPE_CHECKING:
    from archspec.api import build, check, generate, load
    from archspec.diagnostics import Diagnostic, SpecError
    from archspec.importers.library import import_model, load_weights
    from archspec.training.run import train


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'archspec' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


def transfer_weights(source: Any, target: Any, spec: Any = None) -> None:
    """Copy weights between two models built from the same spec (Keras <-> PyTorch, either way)."""
    from archspec.transfer import transfer_weights as transfer

    transfer(source, target, spec)


__all__ = [
    "Diagnostic",
    "SpecError",
    "build",
    "check",
    "generate",
    "import_model",
    "load",
    "load_weights",
    "train",
    "transfer_weights",
]
