"""Initial weights in numpy, drawn as Keras draws them, in IR layout.

One seed gives the same initial weights to every backend (and an ONNX file, which holds its
weights, draws them here). The rules follow Keras 3's
initializers (``keras/src/initializers``): fans from the IR (= Keras) kernel shape, variance
scaling with ``scale / fan``, truncated normals cut at two standard deviations.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from archspec.ops.base import NAMED_VARIANCE_SCALING, InitializerSpec, Op, Weight
from archspec.passes.check import Report

# The standard deviation of a unit normal truncated to [-2, 2] (Keras divides by it).
TRUNCATED_STDDEV = 0.87962566103423978


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras's ``compute_fans``: (fan_in, fan_out) of a weight in Keras layout."""
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def truncated_normal(
    rng: np.random.Generator, shape: tuple[int, ...], mean: float, stddev: float
) -> np.ndarray:
    """Normal samples redrawn until they fall within two standard deviations of the mean."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return mean + stddev * values


def variance_scaling(
    rng: np.random.Generator, shape: tuple[int, ...], scale: float, mode: str, distribution: str
) -> np.ndarray:
    fan_in, fan_out = fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    scale /= max(1.0, fan)
    if distribution == "truncated_normal":
        return truncated_normal(rng, shape, 0.0, math.sqrt(scale) / TRUNCATED_STDDEV)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, math.sqrt(scale), shape)
    limit = math.sqrt(3.0 * scale)
    return rng.uniform(-limit, limit, shape)


def draw(rng: np.random.Generator, spec: object, shape: tuple[int, ...]) -> np.ndarray:
    """One weight tensor (float32) for an initializer name or ``InitializerSpec``."""
    if spec == "zeros":
        values = np.zeros(shape)
    elif spec == "ones":
        values = np.ones(shape)
    elif isinstance(spec, str):
        values = variance_scaling(rng, shape, *NAMED_VARIANCE_SCALING[spec])
    elif isinstance(spec, InitializerSpec):
        values = _draw_spec(rng, spec, shape)
    else:
        raise TypeError(f"unknown initializer {spec!r}")
    return np.asarray(values, dtype=np.float32)


def _draw_spec(rng: np.random.Generator, spec: InitializerSpec, shape: tuple[int, ...]) -> Any:
    if spec.name == "constant":
        return np.full(shape, spec.value)
    if spec.name == "random_normal":
        return rng.normal(spec.mean, spec.stddev, shape)
    if spec.name == "random_uniform":
        return rng.uniform(spec.minval, spec.maxval, shape)
    if spec.name == "truncated_normal":
        return truncated_normal(rng, shape, spec.mean, spec.stddev)
    return variance_scaling(rng, shape, spec.scale, spec.mode, spec.distribution)


def layer_weights(op: Op, weights: tuple[Weight, ...], rng: np.random.Generator) -> list[Any]:
    """Initial values of one layer's weights, in IR layout and order."""
    return [draw(rng, op.initializer(w), w.shape) for w in weights]


def initial_weights(report: Report, seed: int | None = None) -> dict[str, list[np.ndarray]]:
    """Initial values of every layer's weights (IR layout), keyed by node name."""
    rng = np.random.default_rng(seed)
    return {
        layer.name: layer_weights(layer.node.op, layer.weights, rng)
        for layer in report.layers
        if layer.weights
    }
