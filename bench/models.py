"""Targets 3 and 4: models built through archspec cost nothing over hand-written ones.

For one framework per process (``--backend keras|torch``; the framework is imported before any
timing):
  3. build: ``archspec.build("specs/<net>.yaml", backend)`` (load, check, generate, execute,
     verify the parameter count) against the hand-written builder in bench/hand_<backend>.py,
     for alexnet and vgg16, interleaved, each model freed before the next timing;
  4. forward: alexnet, the live model, the model of the generated source (imported from a file)
     and the hand-written one, all holding the same weights, timed on one CPU batch of 16 at
     224x224 in inference mode, interleaved after warm-ups.
Ratios: build time archspec / hand (goal <= 1.05), forward speed hand time / archspec time
(goal >= 0.98), each the median over rounds of the ratio within a round (the order alternates
from round to round), which a drifting background load disturbs least.

Run alone: ``python -m bench.models --backend torch [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import archspec
from archspec.backends import get_backend
from bench import frameworks
from bench.common import SPECS, Result, banner, interleaved, median, paired, seconds, spread
from bench.frameworks import Framework

BUILD_GOAL, FORWARD_GOAL = 1.05, 0.98
BUILD_ROUNDS, FORWARD_ROUNDS = 15, 25
SAME_OUTPUTS = 1e-4  # largest output difference tolerated between the models compared


def run(
    backend: str,
    quick: bool = False,
    nets: tuple[str, ...] = ("alexnet", "vgg16"),
    batch: int = 16,
    smoke: bool = False,
) -> list[Result]:
    """Both targets for one framework; ``smoke`` times everything once, without warm-up."""
    framework = frameworks.load(backend)
    return build_speed(framework, nets, quick, smoke) + forward_speed(
        framework, quick, batch, smoke
    )


def build_speed(
    framework: Framework, nets: tuple[str, ...], quick: bool, smoke: bool = False
) -> list[Result]:
    banner(f"3. build ({framework.name}): archspec.build vs the hand-written model")
    results = []
    for net in nets:
        path = str(SPECS / f"{net}.yaml")
        rounds = 1 if quick or smoke else (BUILD_ROUNDS if net == "alexnet" else 6)
        times = time_builds(framework, net, rounds, warmup=0 if smoke else 1)
        ratio = paired(times, "archspec", "hand")
        print(f"  {net}: archspec {spread(times['archspec'])}, hand {spread(times['hand'])}")
        print(f"    archspec / hand, median of {len(times['hand'])} paired rounds: {ratio:.3f}")
        if not smoke:
            print(f"    archspec's own steps: {breakdown(path, framework)}")
        results.append(
            Result(
                f"build {net} ({framework.name}): archspec / hand",
                ratio,
                "x",
                f"<= {BUILD_GOAL:g}x",
                ratio <= BUILD_GOAL,
                f"{spread(times['archspec'])} vs {spread(times['hand'])}; ratio of "
                f"medians {median(times['archspec']) / median(times['hand']):.3f}",
                f"python -m bench.models --backend {framework.name}  "
                f"(archspec.build('specs/{net}.yaml', '{framework.name}') vs "
                f"bench/hand_{framework.name}.py)",
            )
        )
    return results


def time_builds(framework: Framework, net: str, rounds: int, warmup: int) -> dict[str, list[float]]:
    """Build times of archspec and of the hand-written model, interleaved; each model is freed
    (untimed) before the next build, so that neither pays for the other's memory."""
    path = str(SPECS / f"{net}.yaml")
    held: list[Any] = []

    def release() -> None:
        held.clear()
        framework.release()

    contenders: list[tuple[str, Callable[[], object]]] = [
        ("archspec", lambda: held.append(archspec.build(path, framework.name))),
        ("hand", lambda: held.append(framework.hand[net]())),
    ]
    times = interleaved(contenders, rounds, warmup, between=release, alternate=True)
    release()
    return times


def breakdown(path: str, framework: Framework) -> str:
    """Where archspec's build time goes: check, generate the source, build the live model."""
    backend = get_backend(framework.name)
    steps: dict[str, float] = {}
    start = time.perf_counter()
    report = archspec.check(path)
    steps["load+check"] = time.perf_counter() - start
    start = time.perf_counter()
    backend.generate(report)
    steps["generate (free_params trials included)"] = time.perf_counter() - start
    start = time.perf_counter()
    model = backend.build(report)
    steps["backend.build (generate again, exec, build_model)"] = time.perf_counter() - start
    start = time.perf_counter()
    backend.count_params(model)
    steps["count_params"] = time.perf_counter() - start
    del model
    framework.release()
    return ", ".join(f"{name} {seconds(value)}" for name, value in steps.items())


def generated_model(source: str, folder: str) -> Any:
    """Import generated source from a file, as a user would, and call its ``build_model()``."""
    file = Path(folder) / "generated_model.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("generated_model", file)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.build_model()


def equivalent_models(
    framework: Framework, batch: int, image: int, folder: str
) -> tuple[dict[str, Any], Any, float]:
    """alexnet three ways (hand-written, live, generated source), in inference mode and holding
    the live model's weights; a random batch; and the largest output difference from live."""
    path = str(SPECS / "alexnet.yaml")
    graph = archspec.load(path, **({} if image == 224 else {"input_shape": [image, image, 3]}))
    models = {
        "hand": framework.hand["alexnet"](image=image),
        "live": archspec.build(graph, framework.name),
        "generated": generated_model(archspec.generate(graph, framework.name), folder),
    }
    for model in models.values():
        if hasattr(model, "state_dict"):  # torch: dropout and BatchNorm in inference mode
            model.eval()
    for name in ("hand", "generated"):
        framework.copy_weights(models["live"], models[name])
    x = framework.batch(batch, image)
    outputs = {
        name: framework.to_numpy(framework.infer(model, x)) for name, model in models.items()
    }
    gap = max(float(abs(outputs[n] - outputs["live"]).max()) for n in ("hand", "generated"))
    return models, x, gap


def forward_speed(
    framework: Framework, quick: bool, batch: int, smoke: bool = False, image: int = 224
) -> list[Result]:
    """Forward time of the three equivalent models; refuses to time models that differ."""
    banner(f"4. forward ({framework.name}): alexnet, batch {batch} at {image}x{image}, CPU")
    with tempfile.TemporaryDirectory() as folder:
        models, x, gap = equivalent_models(framework, batch, image, folder)
    print(f"  same weights, same input: largest output difference from live {gap:.2e}")
    if not gap <= SAME_OUTPUTS:
        raise RuntimeError(f"the models compute different functions (difference {gap:.2e})")
    contenders = [(name, _call(framework, model, x)) for name, model in models.items()]
    rounds = 1 if smoke else 4 if quick else FORWARD_ROUNDS
    times = interleaved(contenders, rounds, warmup=0 if smoke else 2, alternate=True)
    for name, values in times.items():
        print(f"  {name:9s} {spread(values)}")
    # The live model runs the generated source: the same code, so their ratio shows the noise.
    noise = paired(times, "live", "generated")
    print(f"  noise floor: live vs generated (the same code), median of paired rounds: {noise:.3f}")
    results = []
    for name in ("live", "generated"):
        ratio = paired(times, "hand", name)
        print(f"  speed of {name} vs hand, median of {len(times[name])} paired rounds: {ratio:.3f}")
        results.append(
            Result(
                f"forward alexnet ({framework.name}, {name}): speed vs hand",
                ratio,
                "x",
                f">= {FORWARD_GOAL:g}x",
                ratio >= FORWARD_GOAL,
                f"{spread(times[name])} vs hand {spread(times['hand'])}; ratio of medians "
                f"{median(times['hand']) / median(times[name]):.3f}; noise floor (live vs "
                f"generated, the same code) {noise:.3f}; outputs differ by {gap:.1e}",
                f"python -m bench.models --backend {framework.name}  (batch {batch}, "
                f"{image}x{image}, inference mode)",
            )
        )
    return results


def _call(framework: Framework, model: Any, x: Any) -> Callable[[], object]:
    return lambda: framework.to_numpy(framework.infer(model, x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["keras", "torch"], required=True)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    for result in run(args.backend, args.quick):
        print(result.to_json_line(), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
