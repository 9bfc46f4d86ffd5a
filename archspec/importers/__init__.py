"""``archspec import``: Keras, ONNX and PyTorch models back into readable specs, with weights.

``read_model`` picks the reader by what it is given (a ``.keras``/``.onnx``/``.pt2`` path, a
live ``torch.nn.Module`` with an input shape); ``write_spec`` turns the imported layers into
spec text; ``import_model`` does both, checks that the text loads back into exactly those
layers, and (``verify=True``) compares the source model with archspec's builds of the spec.
"""

from __future__ import annotations

from archspec.importers.model import Imported, ModelImportError
from archspec.importers.run import ImportResult, import_model, read_model

__all__ = ["ImportResult", "Imported", "ModelImportError", "import_model", "read_model"]
