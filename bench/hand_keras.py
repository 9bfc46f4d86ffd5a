"""Hand-written Keras models that archspec's specs describe: the baseline the benchmarks beat.

``alexnet`` is the reference notebook's function (shared/seeds/000_*.txt), layer for layer,
without its ``model.summary()`` call; ``vgg16`` is what ``keras.applications.VGG16(weights=None)``
builds (configuration D). Run as a script, this is the "Keras route" of the checking benchmark:
a fresh process that imports TensorFlow, builds the notebook's model and counts its parameters.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tensorflow.keras import regularizers
from tensorflow.keras.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
    MaxPooling2D,
)
from tensorflow.keras.models import Model


def alexnet(input_shape=(224, 224, 3), n_classes=10, kernel_regular=None) -> Model:
    """The notebook's AlexNet: conv, ReLU, BatchNorm blocks, three dense layers."""
    input_tensor = Input(shape=input_shape)

    x = Conv2D(filters=96, kernel_size=(11, 11), strides=4, padding="valid")(input_tensor)
    x = Activation("relu")(x)
    x = BatchNormalization()(x)
    x = MaxPooling2D(pool_size=3, strides=2)(x)

    x = Conv2D(
        filters=256,
        kernel_size=(5, 5),
        strides=1,
        padding="same",
        kernel_regularizer=kernel_regular,
    )(x)
    x = Activation("relu")(x)
    x = BatchNormalization()(x)
    x = MaxPooling2D(pool_size=3, strides=2)(x)

    x = Conv2D(
        filters=384,
        kernel_size=(3, 3),
        strides=1,
        padding="same",
        kernel_regularizer=kernel_regular,
    )(x)
    x = Activation("relu")(x)
    x = BatchNormalization()(x)

    x = Conv2D(
        filters=384,
        kernel_size=(3, 3),
        strides=1,
        padding="same",
        kernel_regularizer=kernel_regular,
    )(x)
    x = Activation("relu")(x)
    x = BatchNormalization()(x)

    x = Conv2D(
        filters=256,
        kernel_size=(3, 3),
        strides=1,
        padding="same",
        kernel_regularizer=kernel_regular,
    )(x)
    x = Activation("relu")(x)
    x = BatchNormalization()(x)
    x = MaxPooling2D(pool_size=3, strides=2)(x)

    x = Flatten()(x)
    x = Dense(units=4096, activation="relu")(x)
    x = Dropout(0.5)(x)
    x = Dense(units=4096, activation="relu")(x)
    x = Dropout(0.5)(x)
    output = Dense(units=n_classes, activation="softmax")(x)
    return Model(inputs=input_tensor, outputs=output)


def notebook_alexnet(input_shape=(224, 224, 3), n_classes=10) -> Model:
    """The notebook's call: L2 1e-4 on conv2..conv5 (what specs/alexnet.yaml describes)."""
    return alexnet(input_shape, n_classes, kernel_regular=regularizers.l2(l2=1e-4))


def vgg16(input_shape=(224, 224, 3), n_classes=1000) -> Model:
    """VGG16 as keras.applications writes it: five conv blocks, two 4096 dense layers."""
    inputs = Input(shape=input_shape)
    x = inputs
    for block, (filters, convs) in enumerate(
        [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1
    ):
        for conv in range(1, convs + 1):
            x = Conv2D(
                filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{conv}"
            )(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    x = Flatten(name="flatten")(x)
    x = Dense(4096, activation="relu", name="fc1")(x)
    x = Dense(4096, activation="relu", name="fc2")(x)
    x = Dense(n_classes, activation="softmax", name="predictions")(x)
    return Model(inputs, x, name="vgg16")


BUILDERS = {"alexnet": notebook_alexnet, "vgg16": vgg16}

if __name__ == "__main__":
    print(notebook_alexnet().count_params())
