"""The ONNX backend: an ONNX model file written directly from the IR, NCHW like PyTorch.

This backend writes a model file, not source: ``generate`` raises BackendError. Modules:
``lowering`` (the table: one row per op kind), ``live`` (the ``onnx.ModelProto``), ``weights``
(IR <-> ONNX layouts, get/set weights).

    report = archspec.check("specs/alexnet.yaml")
    model = archspec.build(report, backend="onnx")          # an onnx.ModelProto
    trained = archspec.build(report, backend="torch")       # ... after training it
    weights = get_backend("torch").get_weights(trained, report)   # IR layout
    get_backend("onnx").set_weights(model, report, weights)
"""

from __future__ import annotations

from archspec.backends import BackendError
from archspec.backends.onnx.live import OPSET, build, count_params, report_of, save
from archspec.backends.onnx.lowering import LOWERINGS
from archspec.backends.onnx.weights import get_weights, set_weights
from archspec.passes.check import Report

# True: this backend's output is a model file (``-o model.onnx``), not Python source.
MODEL_FILE_ONLY = True
# What this backend writes (``archspec build`` refuses other extensions, e.g. ``-o z.py``).
FILE_SUFFIXES: dict[str, tuple[str, ...]] = {"source": (), "model": (".onnx",)}

__all__ = [
    "LOWERINGS",
    "OPSET",
    "build",
    "count_params",
    "generate",
    "get_weights",
    "report_of",
    "save",
    "set_weights",
]


def generate(report: Report) -> str:
    """ONNX has no source form here; build the model and save it instead."""
    raise BackendError(
        "the onnx backend writes a model file, not source: use "
        "`archspec build SPEC --backend onnx -o model.onnx` or archspec.build(spec, 'onnx')"
    )
