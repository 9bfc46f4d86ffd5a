"""transfer_weights reaches ONNX models too: weights trained in PyTorch run in onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.backends import get_backend
from archspec.transfer import random_weights

ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

SPEC = """
archspec: 1
name: small
input: {shape: [12, 12, 3]}
layers:
  - conv2d: {filters: 4, kernel_size: 3, strides: 2, padding: same}
  - batch_norm: {}
  - relu: {}
  - flatten: {}
  - dense: {units: 5, activation: softmax}
"""


def test_torch_to_onnx_and_back() -> None:
    report = archspec.check(archspec.load(SPEC))
    torch_model = archspec.build(report, backend="torch").eval()
    get_backend("torch").set_weights(torch_model, report, random_weights(report, seed=3))
    onnx_model = get_backend("onnx").build(report, seed=0)

    archspec.transfer_weights(torch_model, onnx_model)  # the ONNX file carries its spec

    batch = np.random.default_rng(0).normal(size=(2, 3, 12, 12)).astype("float32")
    session = ort.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (onnx_out,) = session.run(None, {session.get_inputs()[0].name: batch})
    with torch.no_grad():
        torch_out = torch_model(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(onnx_out, torch_out, atol=1e-5)

    fresh = archspec.build(report, backend="torch").eval()
    archspec.transfer_weights(onnx_model, fresh)
    with torch.no_grad():
        np.testing.assert_allclose(fresh(torch.from_numpy(batch)).numpy(), torch_out, atol=1e-6)
