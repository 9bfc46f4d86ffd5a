"""Weight transfer between models built from the same spec, in any pair of backends.

Each backend reads and writes weights in the IR's layout (Keras's layout and order, moving
statistics included), so a transfer is ``target.set_weights(source.get_weights())`` through the
IR, whatever the two frameworks are: transposes, the NHWC/NCHW flatten permutation and depthwise
regrouping all live in the backend that differs from the IR.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from archspec.backends import BackendError, get_backend
from archspec.passes.check import Report

# Where a model's class is defined -> the backend that reads it; decided without importing any
# framework (a model that exists has already imported its own).
_FRAMEWORKS = (("torch", "torch"), ("keras", "keras"), ("tensorflow", "keras"), ("onnx", "onnx"))


def backend_of(model: Any) -> str:
    """``torch``, ``keras`` or ``onnx``, from the classes the model is made of."""
    for cls in type(model).__mro__:
        root = cls.__module__.split(".")[0]
        for prefix, backend in _FRAMEWORKS:
            if root == prefix:
                return backend
    raise BackendError(
        f"cannot transfer weights of a {type(model).__name__}: not a Keras, torch or ONNX model"
    )


def structure(report: Report) -> list[tuple[str, str, dict[str, Any], tuple[str, ...]]]:
    """What makes two models the same network: every node's name, kind, resolved attributes
    and inputs (the input shape included), in order. Names and weight shapes alone are not
    enough: two specs may agree on them and differ in strides, activations or pooling."""
    return [
        (layer.name, layer.kind, layer.node.op.model_dump(mode="json"), layer.node.inputs)
        for layer in report.layers
    ]


def difference(a: Report, b: Report) -> str | None:
    """Where two reports' networks first differ, in words; None when they are the same."""
    left, right = structure(a), structure(b)
    for one, other in zip(left, right, strict=False):
        if one == other:
            continue
        if one[:2] != other[:2]:
            return f"layer {one[0]!r} ({one[1]}) faces {other[0]!r} ({other[1]})"
        if one[3] != other[3]:
            return f"layer {one[0]!r} reads {list(one[3])} in one, {list(other[3])} in the other"
        keys = sorted(k for k in {*one[2], *other[2]} if one[2].get(k) != other[2].get(k))
        shown = ", ".join(f"{k} {one[2].get(k)!r} vs {other[2].get(k)!r}" for k in keys[:3])
        return f"layer {one[0]!r} differs: {shown}"
    if len(left) != len(right):
        return f"one has {len(left)} layers, the other {len(right)}"
    return None


def _own_report(model: Any) -> Report | None:
    """The report a model carries: an attribute on live models, metadata in ONNX files."""
    report = getattr(model, "archspec_report", None)
    if report is None and backend_of(model) == "onnx":
        with contextlib.suppress(BackendError):
            report = get_backend("onnx").report_of(model)
    return report


def spec_report(source: Any, target: Any, spec: Any = None) -> Report:
    """The report both models were built from: ``spec`` when given, else their own; refused
    when a model was built from another network than the spec or the other model."""
    found = [r for r in (_own_report(m) for m in (source, target)) if r is not None]
    if spec is not None:
        from archspec.api import check

        found.insert(0, check(spec))
    if not found:
        raise BackendError("neither model was built by archspec: pass spec=... to transfer_weights")
    for other in found[1:]:
        differs = difference(found[0], other)
        if differs:
            raise BackendError(
                f"the models come from different networks ({found[0].name!r} and "
                f"{other.name!r}): {differs}; weights move only between models of one spec"
            )
    return found[0]


def transfer_weights(source: Any, target: Any, spec: Any = None) -> None:
    """Copy every weight of ``source`` into ``target`` (Keras <-> PyTorch, either way).

    Args:
        source: a ``keras.Model``, ``torch.nn.Module`` or ONNX ``ModelProto`` built by archspec.
        target: another one built from the same spec (same or other framework).
        spec: the spec (path, Graph or Report) when the models were not built by archspec.

    Raises:
        BackendError: the models do not come from the same network, or a weight is missing.
    """
    report = spec_report(source, target, spec)
    weights = get_backend(backend_of(source)).get_weights(source, report)
    get_backend(backend_of(target)).set_weights(target, report, weights)


def random_weights(report: Report, seed: int = 0) -> dict[str, list[Any]]:
    """Random IR-layout weights that exercise every value a transfer must carry.

    Unlike a fresh model's (zero biases, unit statistics), every bias, beta, gamma and moving
    statistic differs from its default, and kernels keep activations near unit scale
    (uniform with variance 1 / fan_in), so a misplaced value shows in the outputs.
    """
    rng = np.random.default_rng(seed)
    vectors = {
        "gamma": lambda n: rng.uniform(0.5, 1.5, n),
        "moving_variance": lambda n: rng.uniform(0.5, 1.5, n),
        "variance": lambda n: rng.uniform(0.5, 1.5, n),  # Normalization's (adapted) state
    }
    found: dict[str, list[Any]] = {}
    for layer in report.layers:
        arrays = []
        for weight in layer.weights:
            if len(weight.shape) == 1:
                draw = vectors.get(weight.name, lambda n: rng.normal(0.0, 0.2, n))
                value = draw(weight.shape)
            else:
                # inputs per output: (kh, kw, in) for kernels, one channel's window for depthwise
                fan_in = math.prod(weight.shape[: -2 if weight.name == "depthwise" else -1])
                limit = math.sqrt(3.0 / fan_in)
                value = rng.uniform(-limit, limit, weight.shape)
            arrays.append(value.astype("float32"))
        if arrays:
            found[layer.name] = arrays
    return found
