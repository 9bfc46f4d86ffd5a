"""One-device Keras against MirroredStrategy over two logical CPU devices, in a fresh process.

``python tests/distributed_keras_run.py OUT.json NAME=SPEC[:sync] ...`` trains each spec twice
from the same initial weights on archspec's sharding of the same seeded order (global batch 8,
44 samples, 50 steps): once without a strategy, once mirrored over ``/cpu:0`` and ``/cpu:1``.
It writes per-step losses and the largest final weight difference of each pair. Logical devices
exist only if made before TensorFlow starts, hence the separate process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from archspec.backends.keras import distributed as mirrored

STRATEGY = mirrored.strategy(2)  # first: splits the CPU before TensorFlow starts

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import archspec  # noqa: E402
from archspec.training.distributed import steps_per_epoch, usable  # noqa: E402

SAMPLES, BATCH, STEPS, SEED = 44, 8, 50, 0


def global_batches(replicas: int) -> tf.data.Dataset:
    """STEPS global batches in archspec's order, each cut to a multiple of ``replicas``."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((SAMPLES, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 3, SAMPLES)
    batches, epoch = [], 0
    while len(batches) < STEPS:
        order = np.random.default_rng([SEED, epoch]).permutation(SAMPLES)
        for i in range(steps_per_epoch(SAMPLES, BATCH, replicas)):
            chosen = order[i * BATCH : (i + 1) * BATCH]
            batches.append(chosen[: usable(len(chosen), replicas)])
        epoch += 1
    datasets = [tf.data.Dataset.from_tensors((x[b], y[b])) for b in batches[:STEPS]]
    dataset = datasets[0]
    for more in datasets[1:]:
        dataset = dataset.concatenate(more)
    return dataset


def train(spec: str, sync: bool, strategy, initial: list | None) -> tuple[list[float], list]:
    keras.utils.set_random_seed(SEED)
    with strategy.scope():
        model = archspec.build(archspec.load(spec), backend="keras")
        mirrored.synchronize_batch_norm(model, sync)
        model.compile(
            optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    if initial is not None:
        model.set_weights(initial)
    initial_weights = model.get_weights()
    # one step per Keras "epoch": its logged loss is that step's loss, not a running mean
    history = model.fit(
        global_batches(strategy.num_replicas_in_sync), epochs=STEPS, steps_per_epoch=1, verbose=0
    )
    return history.history["loss"], initial_weights, model.get_weights()


def main() -> None:
    results = {}
    for run in sys.argv[2:]:
        name, _, spec = run.partition("=")
        spec, _, sync = spec.partition(":")
        text = Path(spec).read_text(encoding="utf-8")
        one, initial, w1 = train(text, sync == "sync", tf.distribute.get_strategy(), None)
        two, _, w2 = train(text, sync == "sync", STRATEGY, initial)
        results[name] = {
            "one": one,
            "two": two,
            "weights": max(float(np.abs(a - b).max()) for a, b in zip(w1, w2, strict=True)),
            "replicas": STRATEGY.num_replicas_in_sync,
        }
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(results, out)


if __name__ == "__main__":
    main()
