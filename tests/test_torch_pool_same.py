"""TensorFlow's `same` pooling where PyTorch's symmetric padding cannot reach (a pad larger than
half the window, windows wider than the input): judged against real Keras."""

from __future__ import annotations

import numpy as np
import pytest

import archspec

torch = pytest.importorskip("torch")

# (op, pool, stride, height, width): each needs a pad the symmetric plan cannot express.
CASES = [
    ("max_pool2d", 2, 1, 1, 1),
    ("max_pool2d", 2, 2, 1, 4),
    ("max_pool2d", 4, 3, 5, 1),
    ("avg_pool2d", 2, 2, 1, 1),
    ("avg_pool2d", 3, 2, 3, 2),
    ("avg_pool2d", 4, 3, 5, 4),
]


@pytest.mark.parametrize(("kind", "pool", "stride", "height", "width"), CASES)
def test_same_pooling_matches_keras(kind, pool, stride, height, width) -> None:
    spec = f"""
archspec: 1
name: pool
input: {{shape: [{height}, {width}, 3]}}
layers:
  - {kind}: {{pool_size: {pool}, strides: {stride}, padding: same}}
"""
    report = archspec.check(archspec.load(spec))
    keras_model = archspec.build(report, backend="keras")
    torch_model = archspec.build(report, backend="torch").eval()
    # All-negative input: a max that let a zero pad win, or an average counting pads, shows.
    x = -np.random.default_rng(1).uniform(1, 2, size=(2, height, width, 3)).astype("float32")
    expected = np.asarray(keras_model(x))
    with torch.no_grad():
        got = torch_model(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
    np.testing.assert_allclose(got.transpose(0, 2, 3, 1), expected, atol=1e-6)
