"""The traps where Keras and PyTorch silently differ, each pinned: the stock PyTorch form
differs from Keras by more than the tolerance, archspec's generated form does not.
(SGD's velocity under a schedule and the plateau rule are in test_training_parity.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

import archspec
from archspec.training.data import AUGMENT, Batches
from archspec.training.recipe import HorizontalFlip
from tests.test_training_parity import SPEC, gradient, keras_trajectory, scripts


def stock_trajectory(optimizer_class, w0: np.ndarray, **options) -> np.ndarray:
    import torch

    p = torch.nn.Parameter(torch.tensor(w0))
    optimizer = optimizer_class([p], **options)
    for step in range(100):
        p.grad = torch.from_numpy(gradient(p.detach().numpy(), step))
        optimizer.step()
    return p.detach().numpy()


W0 = np.random.default_rng(1).normal(size=(3, 3)).astype(np.float32) * 1e-3


@pytest.mark.parametrize(
    ("recipe", "stock", "options"),
    [
        # Adam's epsilon sits outside Keras's bias-corrected step, inside PyTorch's.
        ({"adam": {"epsilon": 0.001}}, "Adam", {"lr": 0.001, "eps": 0.001}),
        # RMSprop: rho 0.9 in both here, but epsilon inside the root in Keras.
        ({"rmsprop": {"epsilon": 0.001}}, "RMSprop", {"lr": 0.001, "alpha": 0.9, "eps": 0.001}),
        # Keras's weight_decay is decoupled; PyTorch's SGD adds wd*w to the gradient, so with
        # momentum it is carried in the velocity.
        (
            {"sgd": {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.1}},
            "SGD",
            {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1},
        ),
    ],
    ids=["adam-epsilon", "rmsprop-epsilon", "sgd-weight-decay"],
)
def test_stock_torch_optimizers_differ_from_keras(recipe, stock, options) -> None:
    import torch

    found = scripts({"optimizer": recipe})
    _, keras_w = keras_trajectory(found["keras"], W0)
    stock_w = stock_trajectory(getattr(torch.optim, stock), W0, **options)
    assert np.abs(stock_w - keras_w).max() > 1e-5  # the trap is real
    from tests.test_training_parity import torch_trajectory

    _, ours = torch_trajectory(found["torch"], W0)
    np.testing.assert_allclose(ours, keras_w, atol=1e-6)  # and archspec avoids it


def test_l2_is_a_loss_term_on_the_kernel_only() -> None:
    """Keras's L2(l) adds l*sum(w^2): gradient 2*l*w on that kernel, nothing on the bias."""
    import torch

    report = archspec.check(archspec.load(SPEC))
    model = archspec.build(report, backend="torch")
    model.zero_grad()
    model.regularization_loss().backward()
    conv = model.get_submodule("conv2d")
    torch.testing.assert_close(conv.weight.grad, 2 * 0.001 * conv.weight.detach())
    assert conv.bias.grad is None or not conv.bias.grad.any()


def test_loss_uses_the_logits_behind_the_softmax() -> None:
    """A saturated softmax: log(probs) is infinite, Keras and archspec's loop are not."""
    import keras
    import torch
    import torch.nn.functional as F

    from archspec.training.run import initial_model

    report = archspec.check(archspec.load(SPEC))
    keras_model, torch_model = initial_model(report, "keras", 0), initial_model(report, "torch", 0)
    for model, backend in ((keras_model, "keras"), (torch_model, "torch")):
        weights = archspec.backends.get_backend(backend).get_weights(model, report)
        weights["dense"] = [w * 300 for w in weights["dense"]]
        archspec.backends.get_backend(backend).set_weights(model, report, weights)
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    y = np.array([0, 1, 2, 3])
    keras_loss = keras.losses.CategoricalCrossentropy()(np.eye(10)[y], keras_model(x)).numpy()
    script = scripts({})["torch"]
    kept = script["record_logits"](torch_model.eval())
    ours, _ = script["measure"](torch_model, torch_model, x, y, kept)
    ours = ours.item() - torch_model.regularization_loss().item()
    probs = torch_model(torch.from_numpy(x).permute(0, 3, 1, 2))
    naive = F.nll_loss(torch.log(probs), torch.from_numpy(y)).item()
    assert math.isfinite(ours) and ours == pytest.approx(float(keras_loss), rel=1e-4)
    assert not math.isfinite(naive)


def test_batchnorm_moving_variance_is_keras_s_biased_one() -> None:
    """PyTorch updates running_var with the unbiased batch variance, Keras with the biased."""
    import keras
    import torch

    x = np.random.default_rng(0).normal(size=(8, 4, 4, 3)).astype(np.float32)
    layer = keras.layers.BatchNormalization(momentum=0.9)
    layer(x, training=True)
    keras_var = layer.moving_variance.numpy()
    stock = torch.nn.BatchNorm2d(3, momentum=0.1)
    stock.train()(torch.from_numpy(x).permute(0, 3, 1, 2))
    assert np.abs(stock.running_var.numpy() - keras_var).max() > 5e-4  # 128 values a channel
    ours = torch.nn.Sequential(torch.nn.BatchNorm2d(3, momentum=0.1))
    scripts({})["torch"]["keep_keras_batchnorm_statistics"](ours)
    ours.train()(torch.from_numpy(x).permute(0, 3, 1, 2))
    np.testing.assert_allclose(ours[0].running_var.detach().numpy(), keras_var, atol=1e-6)


def test_flip_is_left_right_only() -> None:
    """Keras's RandomFlip flips both axes by default; archspec's horizontal_flip never up-down."""
    x = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3, 1)
    flipped = AUGMENT["horizontal_flip"][0](
        x.copy(), np.random.default_rng(0), HorizontalFlip(probability=1)
    )
    np.testing.assert_array_equal(flipped, x[:, :, ::-1])


def test_batches_are_a_pure_function_of_seed_and_epoch_and_shard_exactly() -> None:
    x = np.random.default_rng(0).random((50, 6, 6, 1)).astype(np.float32)
    y = np.arange(50)
    steps = [{"random_crop": {"padding": 1}}, {"horizontal_flip": {}}]
    from archspec.training.data import pipeline
    from archspec.training.recipe import AugmentationChoice

    augment = pipeline([AugmentationChoice(**s) for s in steps], True)
    one = Batches(x, y, 8, seed=3, steps=augment)
    again = Batches(x, y, 8, seed=3, steps=augment)
    assert len(one) == 7
    for i in range(len(one)):
        a, b = one.batch(2, i), again.batch(2, i)
        np.testing.assert_array_equal(a[0], b[0])
        # contiguous halves (archspec.training.distributed.shard_slice), together the whole batch
        shards = [Batches(x, y, 8, 3, augment, rank=r, world=2).batch(2, i) for r in (0, 1)]
        # The ranks' shares, in rank order, are the global batch (cut to a multiple of 2).
        np.testing.assert_array_equal(
            np.concatenate([s[0] for s in shards]), a[0][: len(a[0]) // 2 * 2]
        )
        np.testing.assert_array_equal(
            np.concatenate([s[1] for s in shards]), a[1][: len(a[1]) // 2 * 2]
        )
    assert not np.array_equal(one.order(0), one.order(1))
    assert [b[1].tolist() for b in one.epoch(1)] == [one.batch(1, i)[1].tolist() for i in range(7)]
