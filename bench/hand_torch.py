"""Hand-written PyTorch models equivalent to specs/alexnet.yaml and specs/vgg16.yaml.

Equivalent means what a careful port of the Keras originals does (DESIGN.md section 4): Keras's
BatchNorm epsilon and momentum, Keras's initializers (glorot_uniform kernels, zero biases), NCHW
input, softmax at the end, the L2 penalty as ``regularization_loss()``. Run as a script, this is
the "PyTorch route" of the checking benchmark: a fresh process that builds AlexNet by hand (with
PyTorch's default initialisation, as someone who only wants the shapes would) and prints its
torchinfo summary.
"""

from __future__ import annotations

import torch
from torch import nn


def _keras_init(module: nn.Module) -> None:
    """Keras's default initializers, as a port must set them to build the same network."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


def _pooled(side: int) -> int:
    """Side of a 3x3/2 'valid' max-pool's output."""
    return (side - 3) // 2 + 1


def _conv_relu_bn(cin: int, cout: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    padding = 0 if stride > 1 else kernel // 2  # 'valid' for conv1, 'same' (odd kernel) else
    return [
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding),
        nn.ReLU(),
        nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01),
    ]


class AlexNet(nn.Module):
    """The notebook's AlexNet: conv, ReLU, BatchNorm blocks, three dense layers."""

    def __init__(
        self,
        n_classes: int = 10,
        weight_decay: float = 1e-4,
        image: int = 224,
        keras_init: bool = True,
    ) -> None:
        super().__init__()
        side = _pooled(_pooled(_pooled((image - 11) // 4 + 1)))  # conv1 valid /4, three pools
        self.weight_decay = weight_decay
        self.features = nn.Sequential(
            *_conv_relu_bn(3, 96, 11, stride=4),
            nn.MaxPool2d(3, 2),
            *_conv_relu_bn(96, 256, 5),
            nn.MaxPool2d(3, 2),
            *_conv_relu_bn(256, 384, 3),
            *_conv_relu_bn(384, 384, 3),
            *_conv_relu_bn(384, 256, 3),
            nn.MaxPool2d(3, 2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(256 * side * side, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, n_classes),
        )
        if keras_init:
            _keras_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.classifier(self.features(x)), dim=1)

    def regularization_loss(self) -> torch.Tensor:
        """L2 on conv2..conv5, as the notebook's kernel_regularizer."""
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)][1:]
        return self.weight_decay * sum(conv.weight.square().sum() for conv in convs)


class VGG16(nn.Module):
    """VGG16 (configuration D) as keras.applications.VGG16(weights=None) builds it."""

    def __init__(self, n_classes: int = 1000, image: int = 224) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for filters, convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
            for _ in range(convs):
                layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU()]
                channels = filters
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(512 * (image // 32) ** 2, 4096),
            nn.ReLU(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, n_classes),
        )
        _keras_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.classifier(self.features(x)), dim=1)


BUILDERS = {"alexnet": AlexNet, "vgg16": VGG16}

if __name__ == "__main__":
    from torchinfo import summary

    # What a user who only wants the shapes writes: PyTorch's own default initialisation (the
    # Keras-style re-initialisation a faithful port needs is not part of this route).
    print(summary(AlexNet(keras_init=False), input_size=(1, 3, 224, 224), verbose=0))
