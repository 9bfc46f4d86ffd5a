"""The library API: load, check, build, generate, transfer_weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archspec.backends import BackendError, get_backend
from archspec.backends.frameworks import framework_needed
from archspec.frontend.load import load as load_graph
from archspec.ir.graph import Graph, require_valid
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
    """Infer every shape and count every parameter, without importing any framework.

    A Graph or Report given here is checked against the IR's invariants first (names, edges,
    outputs), since code is generated from it: one built by hand or changed after loading
    raises GraphError.
    """
    if isinstance(spec, Report):
        require_valid(spec.graph)
        return spec
    if isinstance(spec, Graph):
        require_valid(spec)
        graph = spec
    else:
        graph = load(spec)
    return check_graph(graph, max_params=max_params)


def generate(spec: SpecLike, backend: str = "keras") -> str:
    """Standalone, ruff-clean Python source that defines ``build_model()`` for ``backend``.

    Generation imports no framework: it works with only the core installed.
    """
    report = check(spec)
    with framework_needed(backend):
        return get_backend(backend).generate(report)


def build(spec: SpecLike, backend: str = "keras", seed: int | None = None) -> Any:
    """A live model (``keras.Model``, ``torch.nn.Module`` or ONNX ``ModelProto``) whose
    parameter count is verified against the checker's.

    Args:
        spec: a spec path or text, a Graph or a Report.
        backend: ``keras``, ``torch`` or ``onnx``.
        seed: when given, the initial weights are drawn from it in numpy (Keras's
            initializers, ``backends/initial_weights.py``), so that every backend built with
            the same seed holds the same weights and computes the same function.

    Raises:
        BackendError: the framework is not installed (with the pip command), or the model
            disagrees with the checker.
    """
    report = check(spec)
    with framework_needed(backend):
        module = get_backend(backend)
        model = module.build(report)
        total, trainable = module.count_params(model)
        # PyTorch's parameters are Keras's trainable weights and its buffers the rest, so all
        # backends answer (total, trainable) in the same terms.
        expected = (report.total_params, report.trainable_params)
        if (total, trainable) != expected:
            raise BackendError(
                f"{backend} model has {total:,} params ({trainable:,} trainable) but the checker "
                f"counts {expected[0]:,} ({expected[1]:,}): a lowering bug, please report it"
            )
        if seed is not None:
            from archspec.backends.initial_weights import initial_weights

            module.set_weights(model, report, initial_weights(report, seed))
    return model
