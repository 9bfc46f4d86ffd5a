"""The ``training:`` recipe: one pydantic entry per optimizer, schedule, callback, augmentation.

Each entry states archspec's single meaning of its hyperparameters (in its docstring and field
descriptions, which become the JSON Schema and the error messages). Every backend maps that
meaning explicitly, one row per entry in ``archspec/backends/<name>/training.py``; no
framework default is passed through. Where Keras and PyTorch disagree, archspec takes Keras's
meaning (the reference notebook's) and the PyTorch rows reproduce it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

Rate = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, lt=1)]


class Entry(BaseModel):
    """A table entry: frozen, unknown fields refused; ``kind`` is its key in the recipe."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str]


# ---------------------------------------------------------------- optimizers
class SGD(Entry):
    """Stochastic gradient descent, Keras's form: ``v = momentum*v - lr*g; w += v`` (nesterov:
    ``w += momentum*v - lr*g``). The velocity keeps the learning rate it was made with, so a
    schedule acts on new gradients only (PyTorch's ``SGD`` rescales the whole velocity)."""

    kind = "sgd"
    learning_rate: Rate = Field(0.01, description="Step size (before any schedule).")
    momentum: Fraction = Field(0.0, description="Velocity decay, 0 for plain SGD.")
    nesterov: bool = Field(False, description="Nesterov momentum.")
    weight_decay: float = Field(
        0.0,
        ge=0,
        description="Decoupled decay: every step, before the update, w -= lr*weight_decay*w on "
        "every trainable weight (Keras's optimizer weight_decay; not PyTorch's coupled one). "
        "Per-layer L2 in the spec is a separate loss term.",
    )


class Adam(Entry):
    """Adam, Keras's form: ``m, v`` moments; ``w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)``.
    Epsilon sits outside the bias-corrected step (PyTorch adds it to ``sqrt(v/(1-b2^t))``)."""

    kind = "adam"
    learning_rate: Rate = Field(0.001, description="Step size (before any schedule).")
    beta_1: Fraction = Field(0.9, description="Decay of the first moment.")
    beta_2: Fraction = Field(0.999, description="Decay of the second moment.")
    epsilon: Rate = Field(1e-7, description="Added to sqrt(v), after Keras's bias correction.")
    weight_decay: float = Field(0.0, ge=0, description=SGD.model_fields["weight_decay"].description)


class AdamW(Adam):
    """Adam with decoupled weight decay (``w -= lr*weight_decay*w`` before each update)."""

    kind = "adamw"
    weight_decay: float = Field(0.004, ge=0, description="Decoupled decay, as in sgd.")


class RMSprop(Entry):
    """RMSprop, Keras's form: ``v = rho*v + (1-rho)*g^2; w -= lr*g/sqrt(v + eps)`` (epsilon inside
    the square root; PyTorch's ``alpha`` is rho and its eps sits outside)."""

    kind = "rmsprop"
    learning_rate: Rate = Field(0.001, description="Step size (before any schedule).")
    rho: Fraction = Field(0.9, description="Decay of the mean square (PyTorch's alpha).")
    epsilon: Rate = Field(1e-7, description="Added to the mean square, inside the square root.")
    momentum: Fraction = Field(0.0, description="m = momentum*m + lr*g/sqrt(v+eps); w -= m.")
    weight_decay: float = Field(0.0, ge=0, description=SGD.model_fields["weight_decay"].description)


# ---------------------------------------------------------------- schedules (in epochs)
class Constant(Entry):
    """The optimizer's learning rate throughout (ReduceLROnPlateau may still lower it)."""

    kind = "constant"


class Step(Entry):
    """``lr * factor ** floor(epoch / every)``: multiplied by ``factor`` every ``every`` epochs."""

    kind = "step"
    every: int = Field(gt=0, description="Epochs between reductions.")
    factor: float = Field(0.1, gt=0, le=1, description="Multiplier at each reduction.")


class Piecewise(Entry):
    """``lr * factors[i]`` during the epochs from ``boundaries[i-1]`` up to ``boundaries[i]``."""

    kind = "piecewise"
    boundaries: list[Annotated[int, Field(gt=0)]] = Field(
        min_length=1, description="Epochs (increasing) at which the next factor starts."
    )
    factors: list[Annotated[float, Field(gt=0)]] = Field(
        description="One more multiplier than boundaries; the first is usually 1."
    )

    @model_validator(mode="after")
    def _lengths(self) -> Piecewise:
        if len(self.factors) != len(self.boundaries) + 1:
            raise ValueError("factors must have one more entry than boundaries")
        if sorted(set(self.boundaries)) != self.boundaries:
            raise ValueError("boundaries must increase")
        return self


class Exponential(Entry):
    """``lr * rate ** (step / steps_per_epoch)``, each step (``staircase``: whole epochs)."""

    kind = "exponential"
    rate: float = Field(gt=0, le=1, description="Multiplier per epoch.")
    staircase: bool = Field(False, description="Change only at epoch boundaries.")


class Cosine(Entry):
    """Linear warm-up from 0 over ``warmup_epochs``, then ``lr*(alpha + (1-alpha)*(1+cos(pi*t))/2)``
    with ``t`` the fraction of ``decay_epochs`` done (then held at ``alpha*lr``), per step."""

    kind = "cosine"
    decay_epochs: int | None = Field(None, gt=0, description="Default: the run's epochs.")
    alpha: Fraction = Field(0.0, description="Final learning rate as a fraction of lr.")
    warmup_epochs: int = Field(0, ge=0, description="Epochs of linear warm-up from 0.")


class Warmup(Entry):
    """Linear warm-up from 0 to lr over ``epochs`` (per step), then constant."""

    kind = "warmup"
    epochs: int = Field(gt=0, description="Epochs of warm-up.")


# ---------------------------------------------------------------- callbacks
Mode = Literal["min", "max"]


class Monitored(Entry):
    monitor: str = Field("val_loss", description="A history key: loss, val_loss, val_accuracy...")
    mode: Mode | None = Field(None, description="Default: max for accuracies, else min.")

    def direction(self) -> Mode:
        return self.mode or ("max" if "acc" in self.monitor else "min")


class WithDelta(Monitored):
    min_delta: float = Field(
        0.0, ge=0, description="Absolute: an improvement must beat the best by more than this."
    )


class ReduceLROnPlateau(WithDelta):
    """Keras's rule: after each epoch, a monitored value that does not improve on the best by
    ``min_delta`` (absolute) adds one to ``wait``; at ``wait >= patience`` the learning rate is
    multiplied by ``factor`` (not below ``min_lr``) and ``cooldown`` epochs pass uncounted.
    (PyTorch reduces at ``> patience`` with a relative threshold unless told otherwise.)"""

    kind = "reduce_lr_on_plateau"
    factor: float = Field(0.1, gt=0, lt=1, description="Multiplier at each reduction.")
    patience: int = Field(10, ge=1, description="Epochs without improvement before reducing.")
    cooldown: int = Field(0, ge=0, description="Epochs after a reduction that are not counted.")
    min_lr: float = Field(0.0, ge=0, description="Lower bound of the learning rate.")


class EarlyStopping(WithDelta):
    """Keras's rule: stop when the monitored value has not improved for ``patience`` epochs
    (never after the first); ``restore_best_weights`` puts back the best epoch's weights at the
    end of training (they are kept with the checkpoint, so a resumed run ends with them too)."""

    kind = "early_stopping"
    patience: int = Field(0, ge=0, description="Epochs without improvement before stopping.")
    restore_best_weights: bool = Field(False, description="End with the best epoch's weights.")


class ModelCheckpoint(Monitored):
    """``RUN_DIR/last.*`` after every epoch and ``RUN_DIR/best.*`` when ``monitor`` improves."""

    kind = "model_checkpoint"


# ---------------------------------------------------------------- augmentation (numpy, in order)
class HorizontalFlip(Entry):
    """Mirror left-right with probability ``probability`` (never up-down)."""

    kind = "horizontal_flip"
    probability: float = Field(0.5, ge=0, le=1)


class RandomCrop(Entry):
    """Zero-pad ``padding`` pixels on each side, then crop the input size at a uniform offset."""

    kind = "random_crop"
    padding: int = Field(gt=0, description="Pixels of zeros added on every side.")


class RandomTranslation(Entry):
    """Shift by a whole number of pixels, uniform in ``[-max, max]`` per axis, zeros filled in."""

    kind = "random_translation"
    height: Fraction = Field(0.1, description="Largest vertical shift, a fraction of the height.")
    width: Fraction = Field(0.1, description="Largest horizontal shift, a fraction of the width.")


class Normalize(Entry):
    """``(x - mean) / std`` per channel, after scaling; applied to validation data too."""

    kind = "normalize"
    mean: list[float] = Field(min_length=1, description="One value per channel.")
    std: list[Annotated[float, Field(gt=0)]] = Field(min_length=1, description="Per channel.")


def _table(*entries: type[Entry]) -> dict[str, type[Entry]]:
    return {entry.kind: entry for entry in entries}


OPTIMIZERS = _table(SGD, Adam, AdamW, RMSprop)
SCHEDULES = _table(Constant, Step, Piecewise, Exponential, Cosine, Warmup)
CALLBACKS = _table(ReduceLROnPlateau, EarlyStopping, ModelCheckpoint)
AUGMENTATIONS = _table(HorizontalFlip, RandomCrop, RandomTranslation, Normalize)


def _one_of(name: str, table: dict[str, type[Entry]], doc: str) -> type[BaseModel]:
    """A mapping with exactly one key from ``table`` (``{adam: {learning_rate: 0.001}}``)."""

    def exactly_one(self: BaseModel) -> BaseModel:
        given = [key for key in table if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(table)} (got {len(given)})")
        return self

    fields: dict[str, Any] = {key: (entry | None, None) for key, entry in table.items()}
    model = create_model(  # type: ignore[call-overload]
        name,
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__=doc,
        __validators__={"exactly_one": model_validator(mode="after")(exactly_one)},
        **fields,
    )
    model.chosen = lambda self: next(getattr(self, k) for k in table if getattr(self, k))
    return model


OptimizerChoice = _one_of("OptimizerChoice", OPTIMIZERS, "One optimizer.")
ScheduleChoice = _one_of("ScheduleChoice", SCHEDULES, "One learning-rate schedule.")
AugmentationChoice = _one_of("AugmentationChoice", AUGMENTATIONS, "One augmentation step.")
Callbacks = create_model(
    "Callbacks",
    __config__=ConfigDict(extra="forbid", frozen=True),
    **{key: (entry | None, None) for key, entry in CALLBACKS.items()},  # type: ignore[call-overload]
)


class CrossEntropy(Entry):
    """Categorical cross-entropy on integer labels, computed from the logits behind a final
    softmax (never ``log(probs)``); label smoothing mixes ``label_smoothing / n_classes`` in."""

    kind = "categorical_crossentropy"
    label_smoothing: Fraction = Field(0.0, description="0 for hard labels.")


LossChoice = _one_of("LossChoice", _table(CrossEntropy), "The loss.")


class TopK(Entry):
    """Top-k accuracy (the label is among the ``k`` highest scores)."""

    kind = "top_k"
    top_k: int = Field(gt=1)


class DataSpec(Entry):
    """Where the data is and how it becomes float32 tensors of the spec's input shape.

    Images are decoded with Pillow, converted to the input's channels (L or RGB), resized to
    (H, W) with bilinear interpolation without antialiasing when the size differs, and divided
    by ``scale``. Class names are the sub-folder names, sorted; an ``.npz`` holds ``x``
    (N, H, W, C) or (N, H, W) and integer ``y`` (N,), optionally ``x_val`` and ``y_val``.
    """

    kind = "data"
    path: str | None = Field(
        None, description="An .npz file, or a folder with one sub-folder per class (or --data)."
    )
    validation: str | Fraction = Field(
        0.2, description="A folder (or .npz) of validation data, or the fraction held out."
    )
    scale: float = Field(255.0, gt=0, description="Pixel values are divided by this.")


class Recipe(BaseModel):
    """A whole ``training:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    data: DataSpec | None = Field(None, description="Default: given with --data.")
    batch_size: int = Field(
        32, gt=0, description="The global batch: one step's samples over all replicas together."
    )
    epochs: int = Field(10, gt=0)
    seed: int = Field(0, ge=0, description="Fixes data order, augmentation and initial weights.")
    loss: LossChoice = Field(default_factory=lambda: LossChoice(categorical_crossentropy={}))  # type: ignore[valid-type]
    metrics: list[Literal["accuracy"] | TopK] = Field(default_factory=lambda: ["accuracy"])
    optimizer: OptimizerChoice = Field(default_factory=lambda: OptimizerChoice(adam={}))  # type: ignore[valid-type]
    schedule: ScheduleChoice = Field(default_factory=lambda: ScheduleChoice(constant={}))  # type: ignore[valid-type]
    callbacks: Callbacks = Field(  # type: ignore[valid-type]
        default_factory=lambda: Callbacks(model_checkpoint={})
    )
    augmentation: list[AugmentationChoice] = Field(default_factory=list)  # type: ignore[valid-type]
    sync_batch_norm: bool = Field(
        False,
        description="Data-parallel runs (--nproc, --devices): BatchNorm statistics over the "
        "global batch, as one process computes them; false: each replica's own share.",
    )
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = Field(
        "float32",
        description="float32, or mixed: layers compute in float16/bfloat16 while the variables "
        "and the optimizer stay float32, and the final softmax and the loss are computed in "
        "float32; mixed_float16 scales the loss (dynamically) against underflow and needs a GPU; "
        "mixed_bfloat16 runs on CPUs too.",
    )
    channels_last: bool = Field(
        False,
        description="PyTorch: the model and the batches in torch.channels_last memory format "
        "(faster convolutions on GPUs; the same function). Keras: a no-op, its images are "
        "channels-last already.",
    )

    @model_validator(mode="after")
    def _plateau_needs_constant(self) -> Recipe:
        plateau = self.callbacks.reduce_lr_on_plateau  # type: ignore[attr-defined]
        if plateau is not None and self.schedule.constant is None:  # type: ignore[attr-defined]
            raise ValueError("reduce_lr_on_plateau needs schedule: {constant: {}}")
        return self
