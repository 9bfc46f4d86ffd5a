"""``nn.MultiheadAttention`` in a ``torch.export`` graph: some 25 ATen calls (in_proj linear,
views, ``scaled_dot_product_attention``, out_proj linear) that together are archspec's one
``multi_head_attention``. The reader folds each such module's calls into one layer here.

Only self-attention maps (query, key and value are one (N, L, D) tensor, ``batch_first=True``)
with the packed ``in_proj`` (``kdim == vdim == embed_dim``), and no mask: anything else is
refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archspec.importers.model import Origin

MODULE = "MultiheadAttention"


@dataclass
class Group:
    """The calls one attention module made, in graph order."""

    path: str
    nodes: list[Any] = field(default_factory=list)

    @property
    def last(self) -> Any:
        return self.nodes[-1]


def attention_groups(graph: Any) -> dict[str, Group]:
    """fx node name -> the attention module call group it belongs to."""
    found: dict[str, Group] = {}
    groups: dict[str, Group] = {}
    for node in graph.nodes:
        stack = node.meta.get("nn_module_stack") or {}
        owner = [path for path, cls in stack.values() if str(cls).endswith(MODULE)]
        if node.op != "call_function" or not owner:
            continue
        group = groups.setdefault(owner[-1], Group(owner[-1]))
        group.nodes.append(node)
        found[node.name] = group
    return found


def attention_layer(
    group: Group, constants: dict[str, Any], origin: Origin
) -> tuple[dict[str, Any], list[np.ndarray], Any]:
    """The ``multi_head_attention`` fields, its weights in the IR's (Keras's) layout, and the
    fx node it reads."""
    members = {node.name for node in group.nodes}
    reads = {
        arg.name: arg
        for node in group.nodes
        for arg in node.all_input_nodes
        if arg.name not in members and arg.name not in constants
    }
    if len(reads) != 1:
        raise origin.error(f"attention reading {sorted(reads)}: only self-attention maps")
    linears = [n for n in group.nodes if str(n.target).startswith("aten.linear")]
    attends = [n for n in group.nodes if "scaled_dot_product_attention" in str(n.target)]
    if len(linears) != 2 or len(attends) != 1 or len(attends[0].args) > 3:
        raise origin.error("attention with separate q/k/v projections or a mask has no form")
    in_weight, in_bias = (_array(linears[0], i, constants) for i in (1, 2))
    out_weight, out_bias = (_array(linears[1], i, constants) for i in (1, 2))
    heads = int(attends[0].args[0].meta["val"].shape[1])
    features = out_weight.shape[0]
    if (in_bias is None) != (out_bias is None) or in_weight.shape != (3 * features, features):
        raise origin.error("attention with bias on only some projections has no form")
    size = features // heads
    weights = []
    for part in range(3):  # query, key, value: (out, in) rows -> kernel (D, heads, size)
        rows = slice(part * features, (part + 1) * features)
        weights.append(in_weight[rows].T.reshape(features, heads, size))
        if in_bias is not None:
            weights.append(in_bias[rows].reshape(heads, size))
    weights.append(out_weight.T.reshape(heads, size, features))
    if out_bias is not None:
        weights.append(out_bias)
    fields = {"num_heads": heads, "use_bias": in_bias is not None}
    return fields, [np.ascontiguousarray(w) for w in weights], next(iter(reads.values()))


def _array(node: Any, index: int, constants: dict[str, Any]) -> np.ndarray | None:
    value = node.args[index] if index < len(node.args) else None
    return None if value is None else constants[value.name]
