"""PyTorch sequences: a (N, L, D) tensor (features last) is the spec's (L, D) as it is, where a
rank-3 tensor elsewhere is channels first (N, C, L). ``x.flatten(2).transpose(1, 2)`` (ViT's
patches to tokens) is a reshape then a change of layout only; the reader tracks which tensors are
tokens and refuses, on tokens, the entries not listed in ``TOKEN_OPS``.
"""

from __future__ import annotations

from archspec.importers.table import mapping
from archspec.importers.torch_map import Call, Result

# The ops whose entries read a (N, L, D) tensor (features last) correctly; the others assume
# PyTorch's channels-first layout, and the reader refuses them on tokens.
TOKEN_OPS = frozenset(
    {
        "aten.linear",
        "aten.layer_norm",
        "aten.transpose",
        "aten.select",
        "aten.add",
        "aten.add_",
        "aten.dropout",
        "aten.dropout_",
        "aten.clone",
        "aten.contiguous",
        "aten.alias",
        "aten.detach",
        "aten.gelu",
        "aten.relu",
        "aten.relu_",
    }
)


@mapping(
    "torch",
    "aten.transpose",
    ops="(none)",
    meaning="(N, C, L) <-> (N, L, C): the spec's (L, C) either way (layout only)",
)
def _transpose(c: Call) -> Result:
    rank = len(c.shapes["self"])
    if rank != 3 or sorted((c.args["dim0"] % rank, c.args["dim1"] % rank)) != [1, 2]:
        raise c.refuse(
            f"transpose of dims {c.args['dim0']}, {c.args['dim1']} of a rank-{rank} tensor"
        )
    c.tokens_out = not c.tokens
    return None


@mapping("torch", "aten.select", ops="take", meaning="one position of a (N, L, D) sequence")
def _select(c: Call) -> Result:
    if not c.tokens or len(c.shapes["self"]) != 3 or c.args["dim"] % 3 != 1:
        raise c.refuse("select other than one position of a (N, L, D) sequence")
    return "take", {"index": int(c.args["index"])}, []
