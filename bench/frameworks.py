"""What the models benchmark needs from each framework: hand-written builders, input batches,
an inference call, and a way to give two equivalent models the same weights.

Frameworks are imported by ``load(name)`` only, so that importing this module stays cheap.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Framework:
    """One backend as the benchmark drives it."""

    name: str
    # spec name -> builder of the hand-written model, called as builder(image=..., n_classes=...)
    hand: dict[str, Callable[..., Any]]
    batch: Callable[[int, int], Any]  # (batch size, image size) -> a random input batch
    infer: Callable[[Any, Any], Any]  # (model, batch) -> outputs, in inference mode
    copy_weights: Callable[[Any, Any], None]  # source, target (same layers, same order)
    to_numpy: Callable[[Any], Any]
    release: Callable[[], None]  # free models between timings


def load(name: str) -> Framework:
    """Import one framework and describe it; the import happens here, outside any timing."""
    return {"keras": _keras, "torch": _torch}[name]()


def _keras() -> Framework:
    import keras
    import numpy as np

    hand = importlib.import_module("bench.hand_keras")

    def release() -> None:
        keras.backend.clear_session()
        gc.collect()

    def copy(source: Any, target: Any) -> None:
        target.set_weights(source.get_weights())

    def builder(build: Callable[..., Any]) -> Callable[..., Any]:
        def call(image: int = 224, **params: Any) -> Any:
            return build(input_shape=(image, image, 3), **params)

        return call

    return Framework(
        "keras",
        {name: builder(build) for name, build in hand.BUILDERS.items()},
        lambda batch, size: (
            np.random.default_rng(0).standard_normal((batch, size, size, 3)).astype("float32")
        ),
        lambda model, x: model(x, training=False),
        copy,
        lambda y: np.asarray(y),
        release,
    )


def _torch() -> Framework:
    import torch

    hand = importlib.import_module("bench.hand_torch")

    def infer(model: Any, x: Any) -> Any:
        with torch.inference_mode():
            return model(x)

    def copy(source: Any, target: Any) -> None:
        """Load by position (names differ); refuses any shape mismatch."""
        values = list(source.state_dict().values())
        keys = list(target.state_dict().keys())
        if len(values) != len(keys):
            raise ValueError(f"{len(values)} tensors for {len(keys)}")
        target.load_state_dict(dict(zip(keys, values, strict=True)), strict=True)

    def batch(size: int, image: int) -> Any:
        return torch.randn(size, 3, image, image, generator=torch.Generator().manual_seed(0))

    return Framework(
        "torch",
        {
            name: lambda cls=cls, **params: cls(**params).eval()
            for name, cls in hand.BUILDERS.items()
        },
        batch,
        infer,
        copy,
        lambda y: y.detach().numpy(),
        gc.collect,
    )
