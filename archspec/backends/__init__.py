"""Backends are lazy plugins: a name -> the module that lowers the IR for one framework.

A backend module provides ``generate(report) -> str`` (standalone source), ``build(report)``
(a live model), ``save(model, path)`` and ``count_params(model) -> (total, trainable)``. Its
framework is imported only when the module is, i.e. when the user asks for that backend.
"""

from __future__ import annotations

import importlib
from types import ModuleType

BACKENDS = {
    "keras": "archspec.backends.keras",
    "torch": "archspec.backends.torch",
    "onnx": "archspec.backends.onnx",
}


class BackendError(Exception):
    """A backend cannot do what was asked (unknown backend, model mismatch, unsupported op)."""


def get_backend(name: str) -> ModuleType:
    """Import and return the backend module called ``name``."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])
