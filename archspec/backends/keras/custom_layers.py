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


@keras.saving.register_keras_serializable(package="archspec")
class LayerScale(layers.Layer):
    """A learned per-channel scale ``x * gamma`` (ConvNeXt's LayerScale)."""

    def __init__(self, init_value: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.init_value = init_value

    def build(self, input_shape):
        init = keras.initializers.Constant(self.init_value)
        self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],), initializer=init)

    def call(self, inputs):
        return inputs * self.gamma

    def get_config(self) -> dict:
        return {**super().get_config(), "init_value": self.init_value}


@keras.saving.register_keras_serializable(package="archspec")
class ClassToken(layers.Layer):
    """Prepends a learned token to a sequence: (N, L, D) -> (N, L + 1, D) (ViT)."""

    def __init__(self, token_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.token_initializer = keras.initializers.get(token_initializer)

    def build(self, input_shape):
        self.token = self.add_weight(
            name="token", shape=(input_shape[-1],), initializer=self.token_initializer
        )

    def call(self, inputs):
        token = ops.broadcast_to(self.token, (ops.shape(inputs)[0], 1, ops.shape(inputs)[-1]))
        return ops.concatenate([ops.cast(token, inputs.dtype), inputs], axis=1)

    def compute_output_shape(self, input_shape):
        length = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], length, input_shape[2])

    def get_config(self) -> dict:
        initializer = keras.initializers.serialize(self.token_initializer)
        return {**super().get_config(), "token_initializer": initializer}


@keras.saving.register_keras_serializable(package="archspec")
class PositionEmbedding(layers.Layer):
    """Adds a learned embedding per position: (N, L, D) + (L, D) (ViT)."""

    def __init__(self, embedding_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.embedding_initializer = keras.initializers.get(embedding_initializer)

    def build(self, input_shape):
        self.embedding = self.add_weight(
            name="embedding", shape=tuple(input_shape[1:]), initializer=self.embedding_initializer
        )

    def call(self, inputs):
        return inputs + self.embedding

    def get_config(self) -> dict:
        initializer = keras.initializers.serialize(self.embedding_initializer)
        return {**super().get_config(), "embedding_initializer": initializer}


@keras.saving.register_keras_serializable(package="archspec")
class SelfAttention(layers.MultiHeadAttention):
    """``MultiHeadAttention`` called on one input as query, key and value (self-attention)."""

    def build(self, input_shape):
        super().build(input_shape, input_shape)

    def call(self, inputs, training=None):
        return super().call(inputs, inputs, training=training)

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(input_shape, input_shape)

    def compute_output_spec(self, inputs, training=None):
        return keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)


@keras.saving.register_keras_serializable(package="archspec")
class Take(layers.Layer):
    """One position along a non-batch axis, which disappears: ``x[:, index]`` for axis 1."""

    def __init__(self, index: int = 0, axis: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.index = index
        self.axis = axis

    def call(self, inputs):
        return ops.take(inputs, self.index, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape[: self.axis] + input_shape[self.axis + 1 :]

    def get_config(self) -> dict:
        return {**super().get_config(), "index": self.index, "axis": self.axis}
