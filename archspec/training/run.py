"""``archspec.train``: render the backend's training script and execute that very text.

The generated script (``archspec build --training``) is what runs here, so the two cannot
drift, as the live models are the executed model source. The model starts from archspec's
seeded initial weights (the same in every backend) and the data is archspec's own.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from archspec.backends import BackendError, get_backend
from archspec.codegen.common import run_source
from archspec.diagnostics import SpecError
from archspec.ir.graph import Graph
from archspec.passes.check import Report
from archspec.training.data import Dataset, load_data
from archspec.training.load import LoadedRecipe, load_recipe
from archspec.training.recipe import DataSpec, Recipe
from archspec.training.runtime import check_resume, read_state

TRAINING_BACKENDS = ("keras", "torch")


def training_source(report: Report, recipe: Recipe, backend: str) -> str:
    """The standalone training script of ``backend`` for this spec and recipe."""
    if backend not in TRAINING_BACKENDS:
        raise BackendError(f"training needs --backend keras or torch, not {backend!r}")
    module = importlib.import_module(f"archspec.backends.{backend}.training")
    return module.generate_training(report, recipe)


# `archspec train --nproc` runs the script under torchrun; the script's recipe is the one the
# command line made (--recipe, --set), which its main() cannot re-read: the command hands the
# run's fingerprint down in this variable.
ENV_FINGERPRINT = "ARCHSPEC_FINGERPRINT"
# Keys a resumed run may change: more epochs extend a run; the data may have moved.
RESUMABLE_CHANGES = ("recipe.epochs", "recipe.data.path")


def fingerprint(report: Report, recipe: Recipe) -> dict[str, Any]:
    """What a resumed run must share with the saved one: ``{"recipe.KEY": value}`` for every
    recipe field (dotted) and ``{"spec.LAYER": hash}`` of each layer's op, fields and inputs."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}", inner)
        else:
            flat[prefix] = value

    walk("recipe", recipe.model_dump(mode="json", exclude_none=True))
    for node in report.graph.nodes:
        layer = [node.kind, node.op.model_dump(mode="json"), list(node.inputs)]
        digest = hashlib.sha256(json.dumps(layer, sort_keys=True).encode()).hexdigest()
        flat[f"spec.{node.name}"] = digest[:12]
    return {k: v for k, v in flat.items() if k not in RESUMABLE_CHANGES}


def _has_gpu(backend: str) -> bool:
    return bool(importlib.import_module(f"archspec.backends.{backend}.training").has_gpu())


def initial_model(report: Report, backend: str, seed: int) -> Any:
    """The live model with archspec's seeded initial weights (equal in every backend)."""
    from archspec.api import build
    from archspec.backends.initial_weights import initial_weights

    model = build(report, backend=backend)
    get_backend(backend).set_weights(model, report, initial_weights(report, seed))
    return model


def dataset(report: Report, loaded: LoadedRecipe, data: str | Path | None = None) -> Dataset:
    """The run's data: ``data`` (a path) if given, else the recipe's ``data:``."""
    recipe = loaded.recipe
    spec = recipe.data
    if data is not None:
        spec = (spec or DataSpec(path=str(data))).model_copy(update={"path": str(data)})
    if spec is None or spec.path is None:
        raise loaded.error("no data: give --data PATH or training.data.path", "")
    n_classes = report.output_shape[-1]
    return load_data(spec, report.graph.input.op.shape, n_classes, recipe.seed, _fail(loaded))


def _fail(loaded: LoadedRecipe) -> Callable[[str, str], SpecError]:
    return lambda message, path: loaded.error(message, path if loaded.recipe.data else "")


def prepare(
    spec: str | Path,
    backend: str,
    overrides: Mapping[str, Any],
    data: str | Path,
    seed: int,
    data_settings: Mapping[str, Any] | None = None,
) -> tuple[Any, Dataset, dict[str, Any]]:
    """(initial model, data, fingerprint) as ``archspec train`` makes them (a script's
    ``main`` uses them). ``data_settings``: the script's own ``data:`` fields (split, scale),
    which win over the spec's, since the script was made from the command line's recipe."""
    from archspec.api import check, load

    report = check(load(spec, **overrides))
    given_data = {f"data.{key}": value for key, value in (data_settings or {}).items()}
    loaded = load_recipe(report.graph, overrides={"seed": seed, **given_data})
    model = initial_model(report, backend, seed)
    given = os.environ.get(ENV_FINGERPRINT)
    marks = json.loads(given) if given else fingerprint(report, loaded.recipe)
    return model, dataset(report, loaded, data), marks


def train(
    graph: Graph | Report | str | Path,
    backend: str = "keras",
    data: str | Path | None = None,
    run_dir: str | Path = "run",
    *,
    epochs: int | None = None,
    seed: int | None = None,
    recipe: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    resume: bool = False,
    progress: Callable[[str], Any] | None = print,
) -> list[dict[str, Any]]:
    """Train the spec's network as its recipe says; return the history (one dict per epoch).

    Args:
        graph: a loaded graph, a check report, or a spec path.
        backend: ``keras`` or ``torch``.
        data: an ``.npz`` or an image folder (default: the recipe's ``data.path``).
        run_dir: where history.json, best.* and last.* go.
        epochs, seed: override the recipe's.
        recipe: a recipe file instead of the spec's ``training:`` section.
        overrides: more recipe keys, dotted (``{"optimizer.adam.learning_rate": 0.01}``).
        resume: continue the run saved in ``run_dir``.

    Raises:
        SpecError: a bad recipe or bad data, located.
        ResumeMismatch: ``resume`` with another recipe or spec than the saved run's.
    """
    from archspec.api import check

    report = check(graph)
    keys = dict(overrides or {})
    keys.update({k: v for k, v in (("epochs", epochs), ("seed", seed)) if v is not None})
    loaded = load_recipe(report.graph, recipe, keys)
    source = training_source(report, loaded.recipe, backend)
    if loaded.recipe.precision == "mixed_float16" and not _has_gpu(backend):
        raise loaded.error(
            f"precision mixed_float16 needs a GPU, and {backend} sees none here",
            "precision",
            "use mixed_bfloat16, which runs on CPUs too, or float32",
        )
    the_data = dataset(report, loaded, data)
    initial_epoch = int(read_state(run_dir).get("epoch", 0)) if resume else 0
    if resume and not initial_epoch:
        raise BackendError(f"nothing to resume in {run_dir}: no state.json from an earlier run")
    marks = fingerprint(report, loaded.recipe)
    if resume:
        check_resume(run_dir, marks)  # before any model is built
    script = run_source(source, f"<archspec training: {report.name} ({backend})>", "archspec_train")
    lowering = importlib.import_module(f"archspec.backends.{backend}.training")
    with lowering.building(loaded.recipe.precision):  # Keras: under the mixed policy
        model = initial_model(report, backend, loaded.recipe.seed)
    return script["train"](
        model,
        the_data,
        str(run_dir),
        epochs=loaded.recipe.epochs,
        initial_epoch=initial_epoch,
        progress=progress,
        fingerprint=marks,
    )
