"""Backends are lazy plugins: a name -> the package that lowers the IR for one framework.

Every backend package has the same shape, so that one of them explains the others:

- ``__init__.py``: the plugin surface: ``generate(report) -> str`` (standalone source),
  ``build(report)`` (a live model), ``save(model, path)``, ``count_params(model) -> (total,
  trainable)``, ``get_weights(model, report)`` and ``set_weights(model, report, weights)`` (IR
  layout, Keras's);
- ``lowering.py``: the lowering table, one row per op kind;
- ``calls.py`` (source backends): what a row reads and returns;
- ``source.py`` (source backends): the emitted module text, through ``templates/<backend>/``;
- ``live.py``: the live model (for source backends, the generated source executed);
- ``weights.py``: the framework's weight layout against the IR's, and moving weights in and out;
- helpers named after the rows they serve (``padding.py``, ``pooling.py``, ...).

A framework is imported only inside ``live.py`` (and lazily elsewhere), i.e. only when the user
asks for that backend. Shared by all: ``initial_weights`` (one seed, the same initial weights
in every backend) and ``archspec.codegen`` (literals, names, templates, the source layout).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archspec.passes.check import Report

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


def model_report(model: Any, report: Report | None) -> Report:
    """``report``, or the one archspec attached to a model it built (``archspec_report``)."""
    found = report if report is not None else getattr(model, "archspec_report", None)
    if found is None:
        raise BackendError("pass the report: this model was not built by archspec")
    return found
