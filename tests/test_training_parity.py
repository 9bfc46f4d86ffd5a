"""Training parity: the generated Keras and PyTorch scripts give the same run.

Components: every optimizer and schedule row, executed from the generated scripts, gives the
same learning-rate and weight trajectories over 100 steps (within 1e-6). End to end: a small
conv + BatchNorm + L2 spec trained on scikit-learn's digits in both frameworks from the same
initial weights on the same batches gives the same history and reaches 90% validation accuracy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import archspec
from archspec.codegen.common import run_source
from archspec.training.load import load_recipe
from archspec.training.run import train, training_source

SPEC = """
archspec: 1
name: tiny
params: {input_shape: [8, 8, 1]}
input: {shape: $input_shape}
layers:
  - conv2d: {filters: 8, kernel_size: 3, padding: same, activation: relu, kernel_regularizer: {l2: 0.001}}
  - batch_norm: {}
  - max_pool2d: {pool_size: 2}
  - flatten: {}
  - dense: {units: 10, activation: softmax}
"""

COMPONENTS = [
    {"optimizer": {"sgd": {"learning_rate": 0.1}}},
    {
        "optimizer": {"sgd": {"learning_rate": 0.1, "momentum": 0.9}},
        "schedule": {"step": {"every": 3}},
    },
    {"optimizer": {"sgd": {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}}},
    {"optimizer": {"adam": {}}, "schedule": {"exponential": {"rate": 0.5}}},
    {"optimizer": {"adamw": {"learning_rate": 0.01}}, "schedule": {"cosine": {"warmup_epochs": 2}}},
    {"optimizer": {"rmsprop": {"momentum": 0.5}}, "schedule": {"warmup": {"epochs": 3}}},
    {
        "optimizer": {"rmsprop": {}},
        "schedule": {"piecewise": {"boundaries": [2, 5], "factors": [1.0, 0.3, 0.1]}},
    },
    {"optimizer": {"adam": {"epsilon": 0.01}}, "schedule": {"cosine": {"alpha": 0.1}}},
]
STEPS_PER_EPOCH = 10


def scripts(overrides: dict) -> dict:
    graph = archspec.load(SPEC)
    report = archspec.check(graph)
    recipe = load_recipe(graph, overrides={"epochs": 10, **overrides}).recipe
    return {
        b: run_source(training_source(report, recipe, b), f"<{b}>", f"t_{b}")
        for b in ("keras", "torch")
    }


def gradient(w: np.ndarray, step: int) -> np.ndarray:
    return (2 * (w - 0.5) + 0.1 * math.sin(step)).astype(np.float32)


def keras_trajectory(script: dict, w0: np.ndarray) -> tuple[list, np.ndarray]:
    import keras

    optimizer, schedule = script["make_optimizer"](STEPS_PER_EPOCH)
    w = keras.Variable(w0)
    rates = []
    for step in range(100):
        rates.append(float(schedule(step)) if callable(schedule) else float(schedule))
        optimizer.apply_gradients([(gradient(w.numpy(), step), w)])
    return rates, w.numpy()


def torch_trajectory(script: dict, w0: np.ndarray) -> tuple[list, np.ndarray]:
    import torch

    p = torch.nn.Parameter(torch.tensor(w0))
    optimizer, scheduler = script["make_optimizer"]([p], STEPS_PER_EPOCH)
    rates = []
    for step in range(100):
        rates.append(optimizer.param_groups[0]["lr"])
        p.grad = torch.from_numpy(gradient(p.detach().numpy(), step))
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return rates, p.detach().numpy()


@pytest.mark.parametrize("overrides", COMPONENTS, ids=lambda o: "-".join(map(str, o.values())))
def test_optimizer_and_schedule_trajectories_agree(overrides: dict) -> None:
    found = scripts(overrides)
    w0 = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    keras_rates, keras_w = keras_trajectory(found["keras"], w0)
    torch_rates, torch_w = torch_trajectory(found["torch"], w0)
    np.testing.assert_allclose(torch_rates, keras_rates, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(torch_w, keras_w, atol=1e-6)
    assert not np.allclose(keras_w, w0)  # it moved


def test_torch_stock_sgd_differs_under_a_schedule() -> None:
    """The trap: torch.optim.SGD rescales the velocity when the rate drops; Keras does not."""
    import torch

    found = scripts(
        {
            "optimizer": {"sgd": {"learning_rate": 0.1, "momentum": 0.9}},
            "schedule": {"step": {"every": 3}},
        }
    )
    w0 = np.ones((2, 2), np.float32)
    _, keras_w = keras_trajectory(found["keras"], w0)
    p = torch.nn.Parameter(torch.tensor(w0))
    stock = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(stock, lambda s: 0.1 ** (s // 30))
    for step in range(100):
        p.grad = torch.from_numpy(gradient(p.detach().numpy(), step))
        stock.step()
        sched.step()
    assert np.abs(p.detach().numpy() - keras_w).max() > 1e-4


def test_plateau_rule_agrees_on_a_scripted_sequence() -> None:
    """Keras reduces at wait >= patience, cooldown counted its way; torch's is mapped onto it."""
    import keras
    import torch

    found = scripts(
        {
            "optimizer": {"sgd": {"learning_rate": 1.0}},
            "callbacks": {
                "reduce_lr_on_plateau": {
                    "patience": 2,
                    "cooldown": 2,
                    "min_delta": 0.01,
                    "factor": 0.5,
                }
            },
        }
    )
    values = [1.0, 0.9, 0.895, 0.9, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.6, 0.61, 0.62, 0.63]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=found["keras"]["make_optimizer"](1)[0], loss="mse")
    (plateau,) = [
        c for c in found["keras"]["make_callbacks"]("/tmp") if "Plateau" in type(c).__name__
    ]
    plateau.set_model(model)
    plateau.on_train_begin()
    p = torch.nn.Parameter(torch.zeros(1))
    optimizer, _ = found["torch"]["make_optimizer"]([p], 1)
    torch_plateau = found["torch"]["make_plateau"](optimizer)
    keras_rates, torch_rates = [], []
    for epoch, value in enumerate(values):
        plateau.on_epoch_end(epoch, {"val_loss": value})
        torch_plateau.step(value)
        keras_rates.append(float(model.optimizer.learning_rate))
        torch_rates.append(optimizer.param_groups[0]["lr"])
    assert torch_rates == pytest.approx(keras_rates)
    assert min(keras_rates) < 1.0  # it reduced


@pytest.mark.parametrize("patience", [0, 2, 3])
def test_early_stopping_rule_agrees_on_a_scripted_sequence(patience: int) -> None:
    """Same stop epoch and same best epoch (whose weights are restored) in both."""
    import keras
    import torch

    found = scripts(
        {
            "callbacks": {
                "early_stopping": {
                    "patience": patience,
                    "min_delta": 0.01,
                    "restore_best_weights": True,
                }
            }
        }
    )
    values = [1.0, 0.9, 0.895, 0.91, 0.7, 0.705, 0.71, 0.69, 0.72, 0.73, 0.74, 0.75]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    (keras_stop,) = found["keras"]["make_callbacks"]("/tmp")[:1]
    model.stop_training = False  # what fit sets before the first epoch
    keras_stop.set_model(model)
    keras_stop.on_train_begin()
    ours = found["torch"]["EarlyStopping"]()
    torch_model = torch.nn.Linear(1, 1)
    keras_epoch = torch_epoch = None
    for epoch, value in enumerate(values):
        keras_stop.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training and keras_epoch is None:
            keras_epoch = epoch
        if ours.stop(epoch, value, torch_model) and torch_epoch is None:
            torch_epoch = epoch
        if keras_epoch is not None and torch_epoch is not None:
            break
    assert keras_epoch == torch_epoch is not None
    assert keras_stop.best_epoch == ours.best_epoch


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> str:
    """scikit-learn's bundled digits (8x8, values 0..16) as an .npz; a subset for speed."""
    from sklearn.datasets import load_digits

    found = load_digits()
    folder = tmp_path_factory.mktemp("digits")
    np.savez(folder / "digits.npz", x=found.images.astype(np.float32), y=found.target)
    np.savez(folder / "small.npz", x=found.images[:400].astype(np.float32), y=found.target[:400])
    return str(folder)


OPTIONS = {
    "overrides": {"data.scale": 16.0, "optimizer.adam.learning_rate": 0.01},
    "progress": None,
}


def final_weights(report, backend: str, run_dir) -> dict:
    import torch

    from archspec.backends import get_backend
    from archspec.training.run import initial_model

    module = get_backend(backend)
    if backend == "keras":
        model = module.load(run_dir / "last.keras")
    else:
        model = initial_model(report, "torch", 0)
        model.load_state_dict(torch.load(run_dir / "last.pt"))
    return module.get_weights(model, report)


def test_end_to_end_same_steps_weights_and_batchnorm_statistics(digits: str, tmp_path) -> None:
    """Conv, ReLU, BatchNorm, pooling, dense, L2 on kernels, no dropout: same history, final
    weights within 1e-3 and BatchNorm moving statistics within 1e-5 after 2 epochs (26 steps)."""
    report = archspec.check(archspec.load(SPEC))
    data = f"{digits}/small.npz"
    keras_h = train(report, "keras", data, tmp_path / "k", epochs=2, **OPTIONS)
    torch_h = train(report, "torch", data, tmp_path / "t", epochs=2, **OPTIONS)
    for k, t in zip(keras_h, torch_h, strict=True):
        assert set(k) == set(t) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"}
        for key in ("loss", "val_loss", "accuracy", "val_accuracy", "lr"):
            assert t[key] == pytest.approx(k[key], rel=1e-4), key
    keras_w = final_weights(report, "keras", tmp_path / "k")
    torch_w = final_weights(report, "torch", tmp_path / "t")
    for name, values in keras_w.items():
        for index, (a, b) in enumerate(zip(values, torch_w[name], strict=True)):
            moving = name.startswith("batch_norm") and index >= 2
            np.testing.assert_allclose(b, a, atol=1e-5 if moving else 1e-3, err_msg=name)
    initial = archspec.backends.initial_weights.initial_weights(report, 0)
    assert not np.allclose(initial["batch_norm"][3], keras_w["batch_norm"][3])  # it moved


def test_it_learns_digits_in_both_frameworks(digits: str, tmp_path) -> None:
    """>= 90% validation accuracy on the digits in 3 epochs, in Keras and in PyTorch."""
    graph = archspec.load(SPEC)
    for backend in ("keras", "torch"):
        history = train(
            graph, backend, f"{digits}/digits.npz", tmp_path / backend, epochs=3, **OPTIONS
        )
        assert history[-1]["val_accuracy"] >= 0.9, backend


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_resume_gives_the_uninterrupted_run(digits: str, tmp_path, backend: str) -> None:
    report = archspec.check(archspec.load(SPEC))
    data = f"{digits}/small.npz"
    whole = train(report, backend, data, tmp_path / "whole", epochs=3, **OPTIONS)
    train(report, backend, data, tmp_path / "cut", epochs=2, **OPTIONS)
    resumed = train(report, backend, data, tmp_path / "cut", epochs=3, resume=True, **OPTIONS)
    assert len(resumed) == 3
    for a, b in zip(whole, resumed, strict=True):
        assert b == pytest.approx(a, rel=1e-6)


# No BatchNorm here: 3 epochs leave its moving statistics (momentum 0.99) far from the data's,
# which makes validation accuracy swing by 10 points between seeds and hides the comparison.
DROPOUT_SPEC = SPEC.replace("  - batch_norm: {}\n", "").replace(
    "  - flatten: {}\n", "  - flatten: {}\n  - dropout: {rate: 0.3}\n"
)


@pytest.mark.slow
def test_dropout_runs_agree_statistically(digits: str, tmp_path) -> None:
    """Dropout masks come from each framework's own generator, so runs cannot match step by
    step. Over seeds 0, 1, 2 the two backends' mean validation accuracy after each of 3 epochs
    must differ by less than 3 points (their seed-to-seed spread is about 1-2 points), and the
    mean training loss by less than 10%."""
    graph = archspec.load(DROPOUT_SPEC)
    runs: dict[str, list] = {"keras": [], "torch": []}
    for backend, seed in [(b, s) for b in runs for s in (0, 1, 2)]:
        history = train(
            graph,
            backend,
            f"{digits}/digits.npz",
            tmp_path / f"{backend}{seed}",
            epochs=3,
            seed=seed,
            **OPTIONS,
        )
        runs[backend].append([(h["val_accuracy"], h["loss"]) for h in history])
    keras_mean, torch_mean = (np.mean(runs[b], axis=0) for b in ("keras", "torch"))
    assert np.abs(keras_mean[:, 0] - torch_mean[:, 0]).max() < 0.03, (keras_mean, torch_mean)
    np.testing.assert_allclose(torch_mean[:, 1], keras_mean[:, 1], rtol=0.1)
    assert not np.allclose(runs["keras"][0], runs["torch"][0], rtol=1e-4)  # dropout is on


def test_ctrl_c_leaves_a_resumable_run(digits: str, tmp_path) -> None:
    """Interrupted after epoch 2 (KeyboardInterrupt, as Ctrl-C raises it), resumed: the same
    history and weights as a run never stopped."""
    import torch

    report = archspec.check(archspec.load(SPEC))
    data = f"{digits}/small.npz"
    options = {k: v for k, v in OPTIONS.items() if k != "progress"}
    whole = train(report, "torch", data, tmp_path / "whole", epochs=3, progress=None, **options)

    def interrupt(line: str) -> None:
        if line.startswith("epoch 2/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(report, "torch", data, tmp_path / "cut", epochs=3, progress=interrupt, **options)
    resumed = train(
        report, "torch", data, tmp_path / "cut", epochs=3, resume=True, progress=None, **options
    )
    assert resumed == whole
    for name, value in torch.load(tmp_path / "whole" / "last.pt").items():
        assert torch.equal(value, torch.load(tmp_path / "cut" / "last.pt")[name]), name


def test_every_recipe_entry_has_a_row_in_both_backends_and_a_parity_case() -> None:
    from archspec.backends.keras import training as keras_rows
    from archspec.backends.torch import training as torch_rows
    from archspec.training.recipe import OPTIMIZERS, SCHEDULES

    for table, name in ((OPTIMIZERS, "OPTIMIZERS"), (SCHEDULES, "SCHEDULES")):
        assert set(getattr(keras_rows, name)) == set(table) == set(getattr(torch_rows, name))
    tested = {k for case in COMPONENTS for part in case.values() for k in part}
    assert set(OPTIMIZERS) | set(SCHEDULES) - {"constant"} <= tested


def test_per_step_loss_agrees_over_200_steps(digits: str, tmp_path) -> None:
    """One step per epoch (32 training samples, batch 32), so each epoch's loss is one step's:
    within 1e-4 relative over the first 20 steps and 1e-3 over all 200, as the issue asks."""
    from sklearn.datasets import load_digits

    found = load_digits()
    data = tmp_path / "forty.npz"
    np.savez(data, x=found.images[:40].astype(np.float32), y=found.target[:40])
    report = archspec.check(archspec.load(SPEC))
    options = {**OPTIONS, "overrides": {**OPTIONS["overrides"], "batch_size": 32}}
    runs = {
        backend: train(report, backend, data, tmp_path / backend, epochs=200, **options)
        for backend in ("keras", "torch")
    }
    keras_loss = np.array([epoch["loss"] for epoch in runs["keras"]])
    torch_loss = np.array([epoch["loss"] for epoch in runs["torch"]])
    assert len(keras_loss) == len(torch_loss) == 200
    assert keras_loss[-1] < keras_loss[0] / 2  # it trained
    relative = np.abs(torch_loss - keras_loss) / np.abs(keras_loss)
    assert relative[:20].max() <= 1e-4
    assert relative.max() <= 1e-3
