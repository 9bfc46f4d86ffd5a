"""The library API: load, check, build, generate, transfer_weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archspec.backends import BackendError, get_backend
from archspec.frontend.load import load as load_graph
from archspec.ir.graph import Graph
from archspec.passes.check import DEFAULT_MAX_PARAMS, Report
from archspec.passes.check import check as check_graph

SpecLike = Graph | Report | str | Path


def load(source: str | Path, **overrides: Any) -> Graph:
    """Load a spec (a path, or YAML text) into a validated IR graph.

    Args:
        source: path to a ``.yaml`` spec, or the YAML text itself.
        **overrides: new values for the spec's params, e.g. ``n_classes=1000``.

    Raises:
        SpecError: with every located problem found.
    """
    return load_graph(source, overrides)


def check(spec: SpecLike, max_params: int = DEFAULT_MAX_PARAMS) -> Report:
    """Infer every shape and count every parameter, without importing any framework."""
    if isinstance(spec, Report):
        return spec
    graph = spec if isinstance(spec, Graph) else load(spec)
    return check_graph(graph, max_params=max_params)


def generate(spec: SpecLike, backend: str = "keras") -> str:
    """Standalone, ruff-clean Python source that defines ``build_model()`` for ``backend``."""
    return get_backend(backend).generate(check(spec))


def build(spec: SpecLike, backend: str = "keras") -> Any:
    """A live model (``keras.Model``, ``torch.nn.Module`` or ONNX ``ModelProto``) whose
    parameter count is verified against the checker's."""
    report = check(spec)
    module = get_backend(backend)
    model = module.build(report)
    total, trainable = module.count_params(model)
    # PyTorch's parameters are Keras's trainable weights and its buffers the rest, so both
    # backends answer (total, trainable) in the same terms.
    expected = (report.total_params, report.trainable_params)
    if (total, trainable) != expected:
        raise BackendError(
            f"{backend} model has {total:,} params ({trainable:,} trainable) but the checker "
            f"counts {expected[0]:,} ({expected[1]:,}): a lowering bug, please report it"
        )
    return model
