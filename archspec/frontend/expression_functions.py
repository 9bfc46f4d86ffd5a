"""The functions of the expression language: one entry each, with its arity and meaning.

Each rule receives numbers (never booleans: the evaluator refuses those first) and raises
``ArgumentError`` for a value outside its domain, naming the argument at fault.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from archspec.limits import MAX_INT_DIGITS

Number = int | float | bool


class ArgumentError(ValueError):
    """An argument outside a function's domain: ``position`` is 0-based."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position, self.message = position, message


@dataclass(frozen=True)
class Function:
    """One callable of the expression language: its arity, its rule and what it means."""

    min_args: int
    max_args: int | None  # None: any number
    rule: Callable[..., Number]
    doc: str
    int_args: tuple[int, ...] = ()  # argument positions that must be ints


def make_divisible(value: Number, divisor: int, min_value: int | None = None) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``, by
    default ``divisor``), never more than 10% below ``value``.

    The rule of torchvision's ``torchvision.models._utils._make_divisible`` and of
    ``keras.applications``' MobileNetV2/V3 ``_make_divisible`` (both from the TensorFlow models
    repository's MobileNet code); EfficientNet's ``round_filters`` is the same rule applied to
    ``filters * width_coefficient``.
    """
    if divisor <= 0:
        raise ArgumentError(1, f"make_divisible() needs a positive divisor, got {divisor}")
    floor = divisor if min_value is None else min_value
    result = max(floor, int(value + divisor / 2) // divisor * divisor)
    return result + divisor if result < 0.9 * value else result


def _round(value: Number, digits: int | None = None) -> Number:
    if digits is None:
        return round(value)
    if abs(digits) > MAX_INT_DIGITS:
        raise ArgumentError(1, f"round() to {digits} digits is out of range")
    return round(value, digits)


def _sqrt(value: Number) -> float:
    if value < 0:
        raise ArgumentError(0, f"sqrt() of a negative number ({value!r})")
    return math.sqrt(value)


FUNCTIONS: dict[str, Function] = {
    "min": Function(2, None, min, "the smallest argument"),
    "max": Function(2, None, max, "the largest argument"),
    "abs": Function(1, 1, abs, "absolute value"),
    "round": Function(
        1, 2, _round, "round(x[, digits]): Python's, half to even; an int without digits", (1,)
    ),
    "floor": Function(1, 1, math.floor, "the largest int <= x"),
    "ceil": Function(1, 1, math.ceil, "the smallest int >= x"),
    "int": Function(1, 1, int, "truncation toward zero, as Python's int()"),
    "float": Function(1, 1, float, "the same number as a float"),
    "sqrt": Function(1, 1, _sqrt, "square root (a float)"),
    "make_divisible": Function(
        2,
        3,
        make_divisible,
        "(v, divisor[, min_value]): MobileNet's channel rounding (torchvision, Keras)",
        (1, 2),
    ),
}
