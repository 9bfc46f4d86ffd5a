"""The op table: every layer kind a spec may use, keyed by its spec name.

Adding a layer kind = one class in a family module below (schema + shape, parameter and MACs
rules) and one lowering row per backend. ``OPS`` is built from the classes, in family order.
"""

from __future__ import annotations

from archspec.ops import conv, core, merge, norm, pool, scale, sequence, spatial
from archspec.ops.base import Op, ShapeError, Weight


def _collect() -> dict[str, type[Op]]:
    table: dict[str, type[Op]] = {}
    for module in (core, conv, pool, spatial, norm, scale, merge, sequence):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Op) and "kind" in vars(value):
                table[value.kind] = value
    return table


OPS: dict[str, type[Op]] = _collect()

__all__ = ["OPS", "Op", "ShapeError", "Weight"]
