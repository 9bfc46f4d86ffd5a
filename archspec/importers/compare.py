"""After an import, prove it: the source model and archspec's builds of the imported spec (with
the imported weights), in the source's framework and the other one, on one random batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Difference:
    """The largest absolute difference between the source's output and one build's."""

    target: str
    max_diff: float
    max_value: float

    def line(self) -> str:
        return (
            f"source vs archspec {self.target}: max |difference| {self.max_diff:.3g} "
            f"(outputs up to {self.max_value:.3g})"
        )


def batch_for(report: Any, seed: int = 0, size: int = 2) -> np.ndarray:
    """One random channels-last batch of the spec's input shape."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(size, *report.layers[0].output_shape)).astype("float32")


def channels_first(batch: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(batch, -1, 1)) if batch.ndim > 2 else batch


def channels_last(values: np.ndarray) -> np.ndarray:
    return np.moveaxis(values, 1, -1) if values.ndim > 2 else values


def run_source(model: Any, batch: np.ndarray) -> Any:
    """The source model's outputs (channels-last) for a channels-last batch."""
    if isinstance(model, str | Path):
        suffix = Path(model).suffix.lower()
        if suffix == ".keras":
            from archspec.backends.keras import load

            return load(model)(batch, training=False)
        if suffix == ".onnx":
            import onnxruntime

            session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
            return batched(lambda x: session.run(None, {name: channels_first(x)}), batch)
        import torch

        program = torch.export.load(str(model)).module()  # already in inference mode
        with torch.no_grad():
            return batched(lambda x: program(torch.from_numpy(channels_first(x))), batch)
    import torch

    with torch.no_grad():
        return batched(lambda x: model.eval()(torch.from_numpy(channels_first(x))), batch)


def batched(run: Any, batch: np.ndarray) -> list[np.ndarray]:
    """``run``'s outputs on the whole batch, or one sample at a time where the source fixed its
    batch size (exporters often do); each channels-last."""
    try:
        outputs = as_list(run(batch))
    except Exception:  # onnxruntime and torch.export guards raise their own kinds
        samples = [as_list(run(x[None])) for x in batch]
        outputs = [np.concatenate(parts) for parts in zip(*samples, strict=True)]
    return [channels_last(o) for o in outputs]


def run_build(backend: str, report: Any, weights: dict[str, list[Any]], batch: np.ndarray) -> Any:
    """Archspec's build of the spec in ``backend`` with the imported weights, run on ``batch``."""
    from archspec.api import build
    from archspec.backends import get_backend

    model = build(report, backend=backend)
    get_backend(backend).set_weights(model, report, weights)
    if backend == "keras":
        return model(batch, training=False)
    if backend == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        name = session.get_inputs()[0].name
        return batched(lambda x: session.run(None, {name: channels_first(x)}), batch)
    import torch

    with torch.no_grad():
        return batched(lambda x: model.eval()(torch.from_numpy(channels_first(x))), batch)


def as_list(outputs: Any) -> list[np.ndarray]:
    """One array per model output, whatever container the framework returned them in."""
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    # a torch tensor converts through .numpy(); Keras and ONNX give arrays
    return [np.asarray(o.numpy() if hasattr(o, "detach") else o) for o in outputs]


def compare_import(model: Any, result: Any, seed: int = 0) -> list[Difference]:
    """Source against archspec's Keras and PyTorch builds on one batch (and its ONNX build
    when the source is an ONNX file: the same framework)."""
    batch = batch_for(result.report, seed)
    expected = run_source(model, batch)
    found = []
    onnx_source = isinstance(model, str | Path) and Path(model).suffix.lower() == ".onnx"
    expected = as_list(expected)
    for backend in ("keras", "torch", *(("onnx",) if onnx_source else ())):
        outputs = as_list(run_build(backend, result.report, result.weights, batch))
        shapes = [o.shape for o in outputs]
        if shapes != [e.shape for e in expected]:
            raise ValueError(
                f"archspec {backend} gives {shapes}, the source {[e.shape for e in expected]}"
            )
        diff = max(float(np.max(np.abs(o - e))) for o, e in zip(outputs, expected, strict=True))
        scale = max(float(np.max(np.abs(e))) for e in expected)
        found.append(Difference(backend, diff, scale))
    return found
