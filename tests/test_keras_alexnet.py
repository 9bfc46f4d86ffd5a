"""The live Keras model of specs/alexnet.yaml is the reference notebook's network.

The notebook's code is re-typed below (Keras 3 spelling); everything is compared against it and
against the checker, never against numbers of our own.
"""

from __future__ import annotations

import numpy as np
import pytest

import archspec

keras = pytest.importorskip("keras")
from keras import layers, regularizers  # noqa: E402

from tests.conftest import ROOT  # noqa: E402

SPEC = ROOT / "specs" / "alexnet.yaml"


def notebook_alexnet(input_shape=(224, 224, 3), n_classes=10, kernel_regular=None):
    """The notebook's ``alexnet()`` (shared/seeds/000_377818a84b782a4d.txt), summary() left out."""
    input_tensor = layers.Input(shape=input_shape)
    x = layers.Conv2D(filters=96, kernel_size=(11, 11), strides=4, padding="valid")(input_tensor)
    x = layers.Activation("relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2)(x)
    x = layers.Conv2D(256, (5, 5), strides=1, padding="same", kernel_regularizer=kernel_regular)(x)
    x = layers.Activation("relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2)(x)
    for filters in (384, 384, 256):
        x = layers.Conv2D(
            filters, (3, 3), strides=1, padding="same", kernel_regularizer=kernel_regular
        )(x)
        x = layers.Activation("relu")(x)
        x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(units=4096, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(units=4096, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    output = layers.Dense(units=n_classes, activation="softmax")(x)
    return keras.Model(inputs=input_tensor, outputs=output)


def randomize(model: keras.Model, seed: int = 0) -> None:
    """Non-trivial BatchNorm statistics and affine terms, so copying them is tested too."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape),
                    rng.normal(0, 0.1, beta.shape),
                    rng.normal(0, 0.1, mean.shape),
                    rng.uniform(0.5, 2.0, var.shape),
                ]
            )


@pytest.fixture(scope="module")
def report():
    return archspec.check(archspec.load(SPEC))


@pytest.fixture(scope="module")
def ours(report):
    return archspec.build(report, backend="keras")


@pytest.fixture(scope="module")
def hand():
    model = notebook_alexnet(kernel_regular=regularizers.l2(l2=1e-4))
    randomize(model)
    return model


def test_same_layer_types_in_the_same_order(ours, hand):
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in hand.layers
    ]


def test_same_output_shape_at_every_layer(ours, hand, report):
    theirs = [tuple(layer.output.shape) for layer in hand.layers]
    assert [tuple(layer.output.shape) for layer in ours.layers] == theirs
    assert [(None, *layer.output_shape) for layer in report.layers] == theirs


def test_same_parameter_counts(ours, hand, report):
    non_trainable = sum(int(np.prod(w.shape)) for w in hand.non_trainable_weights)
    assert ours.count_params() == hand.count_params() == report.total_params
    assert archspec.backends.keras.count_params(ours) == (
        hand.count_params(),
        hand.count_params() - non_trainable,
    )
    assert non_trainable == report.non_trainable_params


def test_layer_names_are_node_names(ours, report):
    assert [layer.name for layer in ours.layers] == [node.name for node in report.graph.nodes]
    assert ours.archspec_report is report


def test_four_l2_losses_equal_to_the_notebooks(ours, hand):
    assert len(ours.losses) == len(hand.losses) == 4
    ours.set_weights(hand.get_weights())
    np.testing.assert_allclose(
        [float(loss) for loss in ours.losses], [float(loss) for loss in hand.losses], rtol=1e-6
    )


def test_copied_weights_give_identical_outputs_at_every_layer(ours, hand):
    ours.set_weights(hand.get_weights())  # by order, as the brief asks
    x = np.random.default_rng(1).normal(size=(2, 224, 224, 3)).astype("float32")
    probe_ours = keras.Model(ours.input, [layer.output for layer in ours.layers[1:]])
    probe_hand = keras.Model(hand.input, [layer.output for layer in hand.layers[1:]])
    for a, b in zip(probe_ours(x, training=False), probe_hand(x, training=False), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6, rtol=0)


def test_n_classes_override_matches_the_notebook_with_1000_classes():
    model = archspec.build(archspec.load(SPEC, n_classes=1000), backend="keras")
    hand = notebook_alexnet(n_classes=1000, kernel_regular=regularizers.l2(l2=1e-4))
    assert model.count_params() == hand.count_params()
    assert model.output.shape == hand.output.shape == (None, 1000)
