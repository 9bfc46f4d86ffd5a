"""Keras layers for ops Keras lacks, written on ``keras.ops`` so they run on any Keras backend.

Generated modules carry a verbatim copy of the classes they use (``class_sources`` reads them
from this file without importing Keras), so generated code stays standalone. Both copies
register under the same name, ``archspec>ClassName``: importing either one is what
``keras.models.load_model`` needs to read a saved model that uses them back. Registering again
(re-running generated code) just replaces the entry.
"""

from __future__ import annotations

import keras  # noqa: TID253  (this module is imported only by the live backend)
from keras import layers, ops  # noqa: TID253


@keras.saving.register_keras_serializable(package="archspec")
class LocalResponseNorm(layers.Layer):
    """Local response normalisation across channels, Caffe's and PyTorch's form.

    ``x / (k + alpha / size * sum of x**2 over the window) ** beta``; the window holds
    ``size // 2`` channels before and ``(size - 1) // 2`` after (zeros beyond the edges).
    """

    def __init__(self, size: int = 5, alpha=1e-4, beta=0.75, k=1.0, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def call(self, inputs):
        channels = inputs.shape[-1]
        edges = [(0, 0)] * (len(inputs.shape) - 1) + [(self.size // 2, (self.size - 1) // 2)]
        squares = ops.pad(ops.square(inputs), edges)
        total = sum(squares[..., i : i + channels] for i in range(self.size))
        return inputs / ops.power(self.k + self.alpha / self.size * total, self.beta)

    def get_config(self) -> dict:
        config = {"size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="archspec")
class NegInfPadding2D(layers.Layer):
    """Pads height and width with -inf, so padded cells never win a max (PyTorch's MaxPool2d).

    ``padding`` takes ZeroPadding2D's forms: an int, (rows, cols) or ((top, bottom),
    (left, right)).
    """

    def __init__(self, padding: int | tuple = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = padding

    def pads(self) -> tuple[tuple[int, int], ...]:
        """((top, bottom), (left, right)) whatever form ``padding`` was given in."""
        if isinstance(self.padding, int):
            return ((self.padding, self.padding),) * 2
        return tuple((p, p) if isinstance(p, int) else (p[0], p[1]) for p in self.padding)

    def call(self, inputs):
        edges = ((0, 0), *self.pads(), (0, 0))
        return ops.pad(inputs, edges, constant_values=float("-inf"))

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding}
