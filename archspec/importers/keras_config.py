"""Reading Keras layer configs for the import table (``keras_map``): ``Config`` tracks the keys
an entry reads, so that a setting no entry reads is refused unless it holds the one value
archspec implements (``FIXED``) or does not change the function (``IGNORED``); initializers,
regularizers and activations in Keras's serialized form -> archspec's fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archspec.importers.model import Origin
from archspec.ops.base import ACTIVATIONS, NAMED_VARIANCE_SCALING

# Keys with no effect on the function a layer computes (nor on its training).
IGNORED = {"name", "trainable", "dtype", "autocast", "registered_name", "input_dtype", "seed"}
# Keys whose only accepted value is the one archspec implements (value None = must be null).
FIXED: dict[str, Any] = {
    "data_format": "channels_last",
    "activity_regularizer": None,
    "kernel_constraint": None,
    "bias_constraint": None,
    "depthwise_constraint": None,
    "pointwise_constraint": None,
    "beta_constraint": None,
    "gamma_constraint": None,
    "lora_rank": None,
    "quantization_config": None,
    "synchronized": False,
    "renorm": False,
    "renorm_clipping": None,
    "renorm_momentum": 0.99,
    "rms_scaling": False,
}
_CLASS_INITIALIZERS = {
    "GlorotUniform": "glorot_uniform",
    "GlorotNormal": "glorot_normal",
    "HeUniform": "he_uniform",
    "HeNormal": "he_normal",
    "LecunUniform": "lecun_uniform",
    "LecunNormal": "lecun_normal",
    "Zeros": "zeros",
    "Ones": "ones",
}
_NAMED_BY_SCALING = {v: k for k, v in NAMED_VARIANCE_SCALING.items()}
_ACTIVATION_ALIASES = {"hard_silu": "hard_swish", None: "linear"}


@dataclass
class Config:
    """A layer's config, remembering which keys an entry read."""

    values: dict[str, Any]
    origin: Origin
    input_shapes: list[list[int]]
    read: set[str] = field(default_factory=set)

    def __call__(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.values.get(key, default)

    def unread(self) -> list[str]:
        """Keys the entry did not read whose value archspec would not reproduce."""
        return [
            key
            for key, value in self.values.items()
            if key not in self.read
            and key not in IGNORED
            and not (key in FIXED and _same(value, FIXED[key]))
        ]

    def refuse(self, message: str) -> Exception:
        return self.origin.error(message)


def _same(value: Any, fixed: Any) -> bool:
    return value == fixed or (fixed is None and value in ({}, []))


def initializer(c: Config, key: str) -> Any:
    """A Keras initializer config -> archspec's form (a name or an InitializerSpec mapping)."""
    value = c(key)
    if value is None or isinstance(value, str):
        return value
    cls, conf = value.get("class_name"), dict(value.get("config") or {})
    conf.pop("seed", None)
    if cls in _CLASS_INITIALIZERS:
        return _CLASS_INITIALIZERS[cls]
    if cls == "VarianceScaling":
        triple = (float(conf["scale"]), conf["mode"], conf["distribution"])
        named = _NAMED_BY_SCALING.get(triple)
        if named:
            return named
        return {
            "name": "variance_scaling",
            "scale": triple[0],
            "mode": triple[1],
            "distribution": triple[2],
        }
    simple = {
        "Constant": ("constant", ["value"]),
        "RandomNormal": ("random_normal", ["mean", "stddev"]),
        "RandomUniform": ("random_uniform", ["minval", "maxval"]),
        "TruncatedNormal": ("truncated_normal", ["mean", "stddev"]),
    }
    if cls in simple:
        name, keys = simple[cls]
        return {"name": name, **{k: float(conf[k]) for k in keys if k in conf}}
    raise c.refuse(f"{key}: initializer {cls} has no archspec form")


def regularizer(c: Config, key: str) -> Any:
    """A Keras L1/L2/L1L2 regularizer config -> ``{l1: ..., l2: ...}`` (None when absent)."""
    value = c(key)
    if value is None:
        return None
    cls, conf = value.get("class_name"), value.get("config") or {}
    if cls not in ("L1", "L2", "L1L2"):
        raise c.refuse(f"{key}: regularizer {cls} has no archspec form")
    found = {k: float(conf[k]) for k in ("l1", "l2") if conf.get(k)}
    return found or None


def activation(c: Config, key: str = "activation") -> str | None:
    """A Keras activation name -> archspec's (None for linear)."""
    value = c(key)
    if isinstance(value, dict):
        value = value.get("config", {}).get("name") or value.get("class_name")
    value = _ACTIVATION_ALIASES.get(value, value)
    if value not in ACTIVATIONS:
        raise c.refuse(f"activation {value!r} has no archspec form")
    return None if value == "linear" else value


def with_weights(c: Config, names: tuple[str, ...]) -> dict[str, Any]:
    """The ``<weight>_initializer`` / ``<weight>_regularizer`` fields a layer carries."""
    found: dict[str, Any] = {}
    for name in names:
        found[f"{name}_initializer"] = initializer(c, f"{name}_initializer")
        if name not in ("moving_mean", "moving_variance"):
            found[f"{name}_regularizer"] = regularizer(c, f"{name}_regularizer")
    return found


def window(c: Config, *keys: str) -> dict[str, Any]:
    return {key: c(key) for key in keys}


def snake_case(name: str) -> str:
    """Keras's own ``to_snake_case``: the h5 weights file names each layer by its class."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
