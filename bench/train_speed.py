"""Training step speed: archspec's generated training scripts against the same training written
by hand (Keras ``fit``, a plain PyTorch loop), and how long a step waits for data.

    python -m bench.train_speed --backend torch [--quick] [--input 224] [--batch 32]

What is timed: wall time per training step (forward, backward, update), after warm-up steps,
of one epoch of synthetic images (alexnet by default, batch 32, Adam). archspec's run is its
generated script's ``train`` (the text ``archspec train`` executes), with a step timer slipped
into its callbacks (Keras) or its batch source (PyTorch); the hand-written run uses the same
model, stock Adam and pre-made batches (Keras: ``fit`` on numpy arrays; PyTorch: a loop over
ready tensors). Data wait (PyTorch) is the time the loop blocks on archspec's prefetching batch
source; for Keras it is the time spent producing batches, an upper bound (tf.data reads ahead).

Mixed precision and channels-last (the recipe's ``precision`` and ``channels_last``): with a GPU
present, archspec's step is also timed with ``--precision`` (default there: mixed_float16) and,
in PyTorch, ``--channels-last``, each reported as a speed-up over its float32 step. Without a GPU
these runs are skipped with a note unless asked for (mixed_bfloat16 and channels-last run on CPUs;
mixed_float16 needs a GPU).
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import time

import numpy as np

from bench.common import SPECS, Result, median

STEP_GOAL = 0.97  # archspec's step speed / hand-written, at least
WAIT_GOAL = 0.05  # fraction of step time spent waiting for data, at most


def setup(backend: str, size: int, batch: int, steps: int, **settings: object):
    import archspec
    from archspec.codegen.common import run_source
    from archspec.training.data import Dataset
    from archspec.training.load import load_recipe
    from archspec.training.run import initial_model, training_source

    graph = archspec.load(SPECS / "alexnet.yaml", input_shape=[size, size, 3])
    report = archspec.check(graph)
    recipe = load_recipe(
        graph, overrides={"batch_size": batch, "callbacks": {}, "epochs": 1, **settings}
    ).recipe
    rng = np.random.default_rng(0)
    n = batch * steps
    x = rng.random((n, size, size, 3), dtype=np.float32)
    y = rng.integers(0, 10, n)
    data = Dataset(x, y, x[:batch], y[:batch])
    script = run_source(training_source(report, recipe, backend), "<bench>", "bench_train")
    lowering = importlib.import_module(f"archspec.backends.{backend}.training")
    gpu = lowering.has_gpu()

    def fresh():
        with lowering.building(recipe.precision):  # Keras: under the mixed policy
            model = initial_model(report, backend, 0)
        return model.to("cuda") if backend == "torch" and gpu else model

    return report, data, script, fresh


def torch_times(
    report, data, script, fresh, batch: int, warmup: int, hand_first: bool, with_hand: bool = True
) -> dict[str, float]:
    marks: list[float] = []
    waits: list[float] = []
    base = script["Batches"]

    class Timed(base):  # type: ignore[misc, valid-type]
        def epoch(self, epoch, prefetch=2):
            source = super().epoch(epoch, prefetch)
            while True:
                start = time.perf_counter()
                try:
                    item = next(source)
                except StopIteration:
                    return
                now = time.perf_counter()
                if self.shuffle:  # the training batches, not validation
                    marks.append(now)
                    waits.append(now - start)
                yield item

    script["Batches"] = Timed

    def run_ours() -> None:
        with tempfile.TemporaryDirectory() as run_dir:
            script["train"](fresh(), data, run_dir, epochs=1, progress=None)

    if with_hand:
        hand = run_in_order(run_ours, lambda: hand_torch(fresh(), data, batch), hand_first)
    else:
        run_ours()
        hand = [float("nan")] * (warmup + 1)
    script["Batches"] = base
    ours = np.diff(marks)[warmup:]
    wait = sum(waits[warmup + 1 :]) / sum(ours)
    return {"ours": median(ours), "hand": median(hand[warmup:]), "wait": wait}


def run_in_order(ours, hand, hand_first: bool):
    """Run both (the order alternates between rounds); return what ``hand`` returns."""
    if hand_first:
        found = hand()
        ours()
        return found
    ours()
    return hand()


def hand_torch(model, data, batch: int) -> list[float]:
    """A plain PyTorch loop as written by hand: stock Adam, ready tensors; seconds per step."""
    import torch
    import torch.nn.functional as F

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    device = next(model.parameters()).device
    batches = [
        (
            torch.from_numpy(data.x_train[i : i + batch]).permute(0, 3, 1, 2).to(device),
            torch.from_numpy(data.y_train[i : i + batch]).to(device),
        )
        for i in range(0, len(data.x_train), batch)
    ]
    hand = []
    for x, y in batches:
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.nll_loss(torch.log(model(x)), y) + model.regularization_loss()
        loss.backward()
        optimizer.step()
        hand.append(time.perf_counter() - start)
    return hand


def keras_times(
    report, data, script, fresh, batch: int, warmup: int, hand_first: bool, with_hand: bool = True
) -> dict[str, float]:
    import keras

    steps: list[float] = []
    produce: list[float] = []

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_begin(self, index, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, index, logs=None):
            steps.append(time.perf_counter() - self.start)

    made = script["make_callbacks"]
    script["make_callbacks"] = lambda run_dir: [*made(run_dir), StepTimer()]
    base = script["EpochBatches"]

    class Timed(base):  # type: ignore[misc, valid-type]
        def __getitem__(self, index):
            start = time.perf_counter()
            item = super().__getitem__(index)
            produce.append(time.perf_counter() - start)
            return item

    script["EpochBatches"] = Timed
    timed: dict[str, list[float]] = {}

    def run_ours() -> None:
        steps.clear()
        with tempfile.TemporaryDirectory() as run_dir:
            script["train"](fresh(), data, run_dir, epochs=1, progress=None)
        timed["ours"] = list(steps)

    def run_hand() -> None:
        steps.clear()
        hand_keras(fresh(), data, batch, StepTimer())
        timed["hand"] = list(steps)

    if with_hand:
        run_in_order(run_ours, run_hand, hand_first)
    else:
        run_ours()
        timed["hand"] = [float("nan")] * (warmup + 1)
    script["make_callbacks"], script["EpochBatches"] = made, base
    ours = median(timed["ours"][warmup:])
    return {"ours": ours, "hand": median(timed["hand"][warmup:]), "wait": median(produce) / ours}


def speedups(args: argparse.Namespace, warmup: int, steps: int) -> list[Result]:
    """archspec's step with mixed precision / channels-last against its float32 step (ratio of
    step speeds, > 1 is faster). Without a GPU, run only when asked for (else a note)."""
    backend = args.backend
    gpu = importlib.import_module(f"archspec.backends.{backend}.training").has_gpu()
    precision = args.precision or ("mixed_float16" if gpu else None)
    channels_last = args.channels_last or (gpu and backend == "torch")
    mixed = precision not in (None, "float32")
    variants: dict[str, dict[str, object]] = {}
    if mixed:
        variants[f"precision {precision}"] = {"precision": precision}
    if channels_last and backend == "torch":
        variants["channels_last"] = {"channels_last": True}
        if mixed:
            both = {"precision": precision, "channels_last": True}
            variants[f"{precision} + channels_last"] = both
    if not variants:
        print(
            f"note: mixed precision and channels-last not benchmarked for {backend}: no GPU here "
            "(--precision mixed_bfloat16 / --channels-last run them on CPU anyway)",
            flush=True,
        )
        return []
    if precision == "mixed_float16" and not gpu:
        print("note: --precision mixed_float16 needs a GPU: skipped", flush=True)
        return []
    measure = torch_times if backend == "torch" else keras_times

    def step(**settings: object) -> float:
        found = setup(backend, args.input, args.batch, steps, **settings)
        return measure(*found, args.batch, warmup, False, with_hand=False)["ours"]

    base = median([step() for _ in range(args.rounds)])
    command = f"python -m bench.train_speed --backend {backend}"
    results = []
    for name, settings in variants.items():
        took = median([step(**settings) for _ in range(args.rounds)])
        detail = f"{name}: {took:.4f} s/step, float32 {base:.4f} s/step"
        print(detail, flush=True)
        name = f"train step {backend} {name}"
        results.append(Result(name, base / took, "x", "reported", True, detail, command))
    return results


def hand_keras(model, data, batch: int, timer) -> None:
    """Keras as written by hand: compile with stock Adam, fit on numpy arrays."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    model.fit(
        data.x_train,
        np.eye(10, dtype="float32")[data.y_train],
        batch_size=batch,
        epochs=1,
        verbose=0,
        callbacks=[timer],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["keras", "torch"], required=True)
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--input", type=int, default=224, help="image side (alexnet: 224)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (median)")
    parser.add_argument(
        "--precision",
        choices=["float32", "mixed_float16", "mixed_bfloat16"],
        help="also time this precision (default with a GPU: mixed_float16; none without)",
    )
    parser.add_argument(
        "--channels-last",
        action="store_true",
        help="also time PyTorch in channels-last memory format (default with a GPU)",
    )
    args = parser.parse_args()
    warmup, timed = (1, 3) if args.quick else (2, 6)
    found = setup(args.backend, args.input, args.batch, warmup + timed + 1)
    measure = torch_times if args.backend == "torch" else keras_times
    # Rounds alternate the order (ours first, then hand first) so that load drifting during
    # the run favours neither; the figure is the median of the per-round ratios.
    rounds = [measure(*found, args.batch, warmup, index % 2 == 1) for index in range(args.rounds)]
    ratio = float(median([r["hand"] / r["ours"] for r in rounds]))
    wait = float(median([r["wait"] for r in rounds]))
    times = {key: median([r[key] for r in rounds]) for key in ("ours", "hand")}
    command = f"python -m bench.train_speed --backend {args.backend}"
    detail = (
        f"alexnet {args.input}px batch {args.batch}: archspec {times['ours']:.3f} s/step, "
        f"hand-written {times['hand']:.3f} s/step"
    )
    print(detail, flush=True)
    for result in (
        Result(
            f"train step {args.backend}",
            ratio,
            "x",
            f">= {STEP_GOAL}x",
            bool(ratio >= STEP_GOAL),
            detail,
            command,
        ),
        Result(
            f"data wait {args.backend}",
            wait,
            "x",
            f"< {WAIT_GOAL}",
            bool(wait < WAIT_GOAL),
            "fraction of step time",
            command,
        ),
        *speedups(args, warmup, warmup + timed + 1),
    ):
        print(result.to_json_line(), flush=True)


if __name__ == "__main__":
    main()
