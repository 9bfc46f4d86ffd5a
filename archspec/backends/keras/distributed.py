"""Keras data parallelism on one host: ``tf.distribute.MirroredStrategy`` over N local devices.

``archspec train SPEC --backend keras --devices N`` mirrors the model on the first N GPUs, or,
without GPUs, on N logical CPU devices (how the tests prove it on a CPU machine). Each step's
global batch (``batch_size`` in the recipe, never multiplied by N) is split contiguously over the
replicas by tf.distribute, Keras divides each replica's loss by N and the gradients are summed,
so a step is the one-device step. The last short batch is cut to a multiple of N first
(``archspec.training.distributed.usable``). ``sync_batch_norm: true`` sets Keras's own
``BatchNormalization(synchronized=True)``: statistics over the global batch.

Several hosts are refused: Keras 3 with ``MultiWorkerMirroredStrategy`` is broken upstream
(keras-team/keras#20585). tensorflow is imported inside functions only.
"""

from __future__ import annotations

from typing import Any

from archspec.backends import BackendError

MULTI_HOST_REFUSAL = (
    "Keras training over several hosts is not supported: Keras 3 with "
    "MultiWorkerMirroredStrategy is broken upstream (keras-team/keras#20585). Train on one host "
    "with --devices N, or train with --backend torch (DDP over hosts: --nnodes, --node-rank, "
    "--master-addr, --master-port) and move the weights to Keras with archspec.transfer_weights"
)


def refuse_multi_host(nnodes: int) -> None:
    """Raise the clear refusal for a Keras job over more than one host."""
    if nnodes > 1:
        raise BackendError(MULTI_HOST_REFUSAL)


def local_devices(n: int) -> list[str]:
    """N device names to mirror over: the first N GPUs, else N logical CPU devices.

    Logical CPU devices can only be made before TensorFlow starts its runtime, so call this
    before building any model or tensor in the process.
    """
    import tensorflow as tf

    if n < 1:
        raise BackendError(f"--devices must be at least 1, got {n}")
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if len(gpus) < n:
            raise BackendError(f"--devices {n}: only {len(gpus)} GPU(s) on this host")
        return [f"/gpu:{i}" for i in range(n)]
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:  # NOTE: listing logical devices would start the runtime; configure first
        config = [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        tf.config.set_logical_device_configuration(cpu, config)
    except RuntimeError as err:
        if len(tf.config.list_logical_devices("CPU")) != n:  # started earlier, another split
            raise BackendError(
                f"--devices {n}: TensorFlow started before its CPU could be split into {n} "
                f"logical devices; set them up first in a fresh process ({err})"
            ) from None
    return [f"/cpu:{i}" for i in range(n)]


def strategy(n: int) -> Any:
    """A MirroredStrategy over ``local_devices(n)`` (one device: still a strategy, same code)."""
    import tensorflow as tf

    devices = local_devices(n)
    # NCCL all-reduce needs GPUs; on CPU devices the reduction goes through one device.
    cross = None if devices[0].startswith("/gpu") else tf.distribute.ReductionToOneDevice()
    return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=cross)


def synchronize_batch_norm(model: Any, synchronized: bool = True) -> int:
    """Set Keras's ``synchronized`` on every BatchNormalization of ``model``; how many."""
    import keras

    layers = [
        layer
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    for layer in layers:
        layer.synchronized = synchronized
    return len(layers)
