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
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from bench.common import SPECS, Result, median

STEP_GOAL = 0.97  # archspec's step speed / hand-written, at least
WAIT_GOAL = 0.05  # fraction of step time spent waiting for data, at most


def setup(backend: str, size: int, batch: int, steps: int):
    import archspec
    from archspec.codegen.common import run_source
    from archspec.training.data import Dataset
    from archspec.training.load import load_recipe
    from archspec.training.run import initial_model, training_source

    graph = archspec.load(SPECS / "alexnet.yaml", input_shape=[size, size, 3])
    report = archspec.check(graph)
    recipe = load_recipe(
        graph, overrides={"batch_size": batch, "callbacks": {}, "epochs": 1}
    ).recipe
    rng = np.random.default_rng(0)
    n = batch * steps
    x = rng.random((n, size, size, 3), dtype=np.float32)
    y = rng.integers(0, 10, n)
    data = Dataset(x, y, x[:batch], y[:batch])
    script = run_source(training_source(report, recipe, backend), "<bench>", "bench_train")
    return report, data, script, lambda: initial_model(report, backend, 0)


def torch_times(
    report, data, script, fresh, batch: int, warmup: int, hand_first: bool
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

    hand = run_in_order(run_ours, lambda: hand_torch(fresh(), data, batch), hand_first)
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
    batches = [
        (
            torch.from_numpy(data.x_train[i : i + batch]).permute(0, 3, 1, 2),
            torch.from_numpy(data.y_train[i : i + batch]),
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
    report, data, script, fresh, batch: int, warmup: int, hand_first: bool
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

    run_in_order(run_ours, run_hand, hand_first)
    script["make_callbacks"], script["EpochBatches"] = made, base
    ours = median(timed["ours"][warmup:])
    return {"ours": ours, "hand": median(timed["hand"][warmup:]), "wait": median(produce) / ours}


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
    ):
        print(result.to_json_line(), flush=True)


if __name__ == "__main__":
    main()
