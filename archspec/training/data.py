"""Data in numpy, read and batched by archspec itself, so every framework sees the same batches.

Images are decoded with Pillow (converted to L or RGB for 1 or 3 input channels), resized to
the spec's (H, W) with Pillow's bilinear filter (which averages over the footprint when it
shrinks) only when the size differs, and divided by the recipe's ``scale``. The data order of
an epoch and the augmentation of each batch are pure functions of (seed, epoch, batch index),
so a distributed rank can take its share of a global batch and see the very numbers a single
process would.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from archspec.training.distributed import World, shard_slice, steps_per_epoch, usable
from archspec.training.recipe import AugmentationChoice, DataSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
Fail = Callable[[str, str], Exception]  # (message, recipe path) -> the error to raise


def _fail(message: str, path: str) -> Exception:
    return ValueError(f"{path}: {message}")


@dataclass(frozen=True)
class Dataset:
    """Training and validation arrays: x (N, H, W, C) float32, y (N,) int64 class indices."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: tuple[str, ...] = ()


def load_data(
    spec: DataSpec,
    input_shape: Sequence[int],
    n_classes: int,
    seed: int,
    fail: Fail = _fail,
) -> Dataset:
    """Read ``spec.path`` (an ``.npz`` or a class-per-folder tree), split or read validation."""
    x, y, classes = _read(Path(spec.path or ""), input_shape, spec.scale, fail, "data.path")
    if isinstance(spec.validation, str):
        x_val, y_val, _ = _read(
            Path(spec.validation), input_shape, spec.scale, fail, "data.validation"
        )
    else:
        order = np.random.default_rng([seed, 1]).permutation(len(x))
        held = round(len(x) * spec.validation)
        x, y, x_val, y_val = x[order[held:]], y[order[held:]], x[order[:held]], y[order[:held]]
    for labels, where in ((y, "data.path"), (y_val, "data.validation")):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise fail(
                f"labels run from {labels.min()} to {labels.max()} but the model's output has "
                f"{n_classes} units",
                where,
            )
    if classes and len(classes) != n_classes:
        raise fail(
            f"{len(classes)} class folders but the model's output has {n_classes} units",
            "data.path",
        )
    if not len(x):
        raise fail("no training examples", "data.path")
    return Dataset(x, y, x_val, y_val, classes)


def _read(
    path: Path, shape: Sequence[int], scale: float, fail: Fail, where: str
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    if not path.exists():
        raise fail(f"no such file or folder: {path}", where)
    if path.is_dir():
        x, y, classes = _read_folder(path, shape, fail, where)
    else:
        try:
            with np.load(path, allow_pickle=False) as archive:
                x, y = archive["x"], archive["y"]
        except (OSError, ValueError, KeyError) as err:
            raise fail(f"cannot read {path} as an .npz with x and y: {err}", where) from None
        x, classes = _to_input(np.asarray(x), shape, fail, where), ()
    return (x / np.float32(scale)).astype(np.float32), np.asarray(y, dtype=np.int64), classes


def _to_input(x: np.ndarray, shape: Sequence[int], fail: Fail, where: str) -> np.ndarray:
    """(N, H, W[, C]) arrays resized to the input's (H, W), one channel at a time."""
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] != shape[-1]:
        raise fail(
            f"x has shape {x.shape}; the model takes (N, {', '.join(map(str, shape))})", where
        )
    if tuple(x.shape[1:3]) == tuple(shape[:2]):
        return x.astype(np.float32)
    from PIL import Image

    out = np.empty((len(x), *shape), dtype=np.float32)
    size = (shape[1], shape[0])  # Pillow's (width, height)
    for i, image in enumerate(x.astype(np.float32)):
        for c in range(shape[-1]):
            resized = Image.fromarray(image[..., c], mode="F").resize(size, Image.BILINEAR)
            out[i, ..., c] = np.asarray(resized)
    return out


def _read_folder(
    root: Path, shape: Sequence[int], fail: Fail, where: str
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    from PIL import Image, UnidentifiedImageError

    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    if not classes:
        raise fail(f"{root} has no class sub-folders", where)
    mode = {1: "L", 3: "RGB"}.get(shape[-1])
    if mode is None:
        raise fail(f"images need 1 or 3 input channels, not {shape[-1]}", where)
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise fail(f"class folder {root / name} holds no PNG or JPEG image", where)
        for file in files:
            try:
                with Image.open(file) as image:
                    image = image.convert(mode)
                    if image.size != (shape[1], shape[0]):
                        image = image.resize((shape[1], shape[0]), Image.BILINEAR)
                    pixels = np.asarray(image, dtype=np.float32)
            except (OSError, UnidentifiedImageError, ValueError) as err:
                raise fail(f"cannot decode image {file}: {err}", where) from None
            images.append(pixels.reshape(shape))
            labels.append(label)
    return np.stack(images), np.asarray(labels), classes


# ---------------------------------------------------------------- augmentation rows (numpy)
def _flip(x: np.ndarray, rng: np.random.Generator, step: Any) -> np.ndarray:
    chosen = rng.random(len(x)) < step.probability
    x[chosen] = x[chosen, :, ::-1]
    return x


def _shift(x: np.ndarray, rng: np.random.Generator, pad_h: int, pad_w: int) -> np.ndarray:
    """Zero-pad, then crop the original size at offsets uniform in [0, 2*pad]."""
    n, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)))
    dy = rng.integers(0, 2 * pad_h + 1, n)
    dx = rng.integers(0, 2 * pad_w + 1, n)
    return np.stack([padded[i, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])


def _crop(x: np.ndarray, rng: np.random.Generator, step: Any) -> np.ndarray:
    return _shift(x, rng, step.padding, step.padding)


def _translate(x: np.ndarray, rng: np.random.Generator, step: Any) -> np.ndarray:
    return _shift(x, rng, int(step.height * x.shape[1]), int(step.width * x.shape[2]))


def _normalize(x: np.ndarray, rng: np.random.Generator, step: Any) -> np.ndarray:
    mean = np.asarray(step.mean, dtype=np.float32)
    std = np.asarray(step.std, dtype=np.float32)
    return (x - mean) / std


# kind -> (function, random: applied to training batches only)
AUGMENT: dict[str, tuple[Callable[..., np.ndarray], bool]] = {
    "horizontal_flip": (_flip, True),
    "random_crop": (_crop, True),
    "random_translation": (_translate, True),
    "normalize": (_normalize, False),
}


def pipeline(steps: Sequence[Any], training: bool) -> tuple[Any, ...]:
    """The augmentation entries (``AugmentationChoice``) that apply to training or evaluation."""
    chosen = [step.chosen() if isinstance(step, AugmentationChoice) else step for step in steps]
    return tuple(s for s in chosen if training or not AUGMENT[s.kind][1])


class Batches:
    """The batches of one epoch, a pure function of (seed, epoch): shuffled, augmented, sharded.

    Rank ``rank`` of ``world`` gets its contiguous share of every global batch
    (``training.distributed.shard_slice``); the augmentation of a global batch is drawn as a
    whole, so sharding never changes a number.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        seed: int,
        steps: Sequence[Any] = (),
        shuffle: bool = True,
        rank: int = 0,
        world: int = 1,
        replicas: int | None = None,
    ) -> None:
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.steps, self.shuffle, self.rank, self.world = tuple(steps), shuffle, rank, world
        # replicas sharing each global batch: the DDP world, or MirroredStrategy's devices
        self.replicas = world if replicas is None else replicas
        self._order = lru_cache(maxsize=2)(self._draw_order)

    def __len__(self) -> int:
        return steps_per_epoch(len(self.x), self.batch_size, self.replicas)

    def _draw_order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.x))

    def order(self, epoch: int) -> np.ndarray:
        """The example indices of ``epoch`` in the order they are served (all ranks)."""
        return self._order(epoch)

    def batch(self, epoch: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """This rank's share of global batch ``index`` of ``epoch``: (x NHWC float32, y int64)."""
        chosen = self.order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.x[chosen]
        if self.steps:
            rng = np.random.default_rng([self.seed, epoch, index, 2])
            for step in self.steps:
                x = AUGMENT[step.kind][0](x, rng, step)
        # the short last batch is cut to a multiple of the replicas (training/distributed.py)
        share = shard_slice(usable(len(chosen), self.replicas), World(self.rank, self.world))
        return np.ascontiguousarray(x[share], dtype=np.float32), self.y[chosen][share]

    def epoch(self, epoch: int, prefetch: int = 2) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every batch of ``epoch``, prepared ``prefetch`` batches ahead in a thread."""
        if prefetch <= 0:
            yield from (self.batch(epoch, i) for i in range(len(self)))
            return
        ready: queue.Queue[Any] = queue.Queue(maxsize=prefetch)

        def produce() -> None:
            for i in range(len(self)):
                ready.put(self.batch(epoch, i))
            ready.put(None)

        threading.Thread(target=produce, daemon=True).start()
        while (item := ready.get()) is not None:
            yield item
