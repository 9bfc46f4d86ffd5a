"""ONNX rows for sequences of tokens (ViT): class_token, position_embedding,
multi_head_attention, permute, take. A sequence (L, D) is (N, D, L) here, as in PyTorch."""

from __future__ import annotations

import math

import numpy as np

from archspec.backends.onnx.nodes import Lowering, to_channels_last
from archspec.backends.onnx.weights import channels_first_perm, channels_last_perm
from archspec.passes.check import LayerReport


def _int64(values: list[int]) -> np.ndarray:
    return np.array(values, np.int64)


def lower_class_token(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """The token (D,) as (1, D, 1), broadcast to the batch by adding it to zeros shaped like
    the first position (Expand from a computed shape would hide the batch size from shape
    inference), then put first along the sequence."""
    name = layer.name
    shape = lo.const(layer, "token_shape", _int64([1, -1, 1]))
    token = lo.emit("Reshape", [lo.weight(layer, "token"), shape], f"{name}/token")
    bounds = [lo.const(layer, what, _int64([v])) for what, v in (("start", 0), ("end", 1))]
    axis = lo.const(layer, "axis", _int64([2]))
    first = lo.emit("Slice", [x[0], *bounds, axis], f"{name}/first")
    zeros = lo.emit("Mul", [first, lo.scalar(layer, "zero", 0.0)], f"{name}/zeros")
    tokens = lo.emit("Add", [zeros, token], f"{name}/tokens")
    return lo.emit("Concat", [tokens, x[0]], name, axis=2)


def lower_position_embedding(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    # The initializer holds the embedding as (D, L) (weights.to_onnx), the tensor's orientation.
    return lo.emit("Add", [x[0], lo.weight(layer, "embedding")], layer.name)


def lower_attention(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """Self-attention spelled out: per-head projections, scaled dot products, softmax over
    keys, the weighted values merged and projected back (Keras's and PyTorch's function)."""
    op, name = layer.node.op, layer.name
    features = layer.input_shapes[0][-1]
    heads, size = op.num_heads, op.head_size(features)
    tokens = to_channels_last(lo, layer, x[0], 2)  # (N, L, D)
    split = lo.const(layer, "split", _int64([0, 0, heads, size]))

    def project(part: str, perm: list[int]) -> str:
        out = lo.emit("MatMul", [tokens, lo.weight(layer, f"{part}_kernel")], f"{name}/{part}")
        bias = lo.weight(layer, f"{part}_bias")
        if bias is not None:
            out = lo.emit("Add", [out, bias], f"{name}/{part}_biased")
        out = lo.emit("Reshape", [out, split], f"{name}/{part}_heads")
        return lo.emit("Transpose", [out], f"{name}/{part}_t", perm=perm)

    query = project("query", [0, 2, 1, 3])  # (N, h, L, k)
    key = project("key", [0, 2, 3, 1])  # (N, h, k, L)
    value = project("value", [0, 2, 1, 3])
    scale = lo.scalar(layer, "scale", 1.0 / math.sqrt(size))
    scaled = lo.emit("Mul", [query, scale], f"{name}/query_scaled")
    scores = lo.emit("MatMul", [scaled, key], f"{name}/scores")
    weights = lo.emit("Softmax", [scores], f"{name}/weights", axis=-1)
    mixed = lo.emit("MatMul", [weights, value], f"{name}/mixed")
    mixed = lo.emit("Transpose", [mixed], f"{name}/mixed_t", perm=[0, 2, 1, 3])
    merge = lo.const(layer, "merge", _int64([0, 0, heads * size]))
    mixed = lo.emit("Reshape", [mixed, merge], f"{name}/merged")
    out = lo.emit("MatMul", [mixed, lo.weight(layer, "output_kernel")], f"{name}/output")
    bias = lo.weight(layer, "output_bias")
    if bias is not None:
        out = lo.emit("Add", [out, bias], f"{name}/output_biased")
    return lo.emit("Transpose", [out], name, perm=channels_first_perm(3))


def lower_permute(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    """One Transpose: channels last, Keras's permutation, channels first again."""
    rank = len(layer.input_shapes[0]) + 1
    last, keras, first = (
        channels_last_perm(rank),
        [0, *layer.node.op.dims],
        channels_first_perm(rank),
    )
    perm = [last[keras[i]] for i in first]
    return lo.emit("Transpose", [x[0]], layer.name, perm=perm)


def lower_take(lo: Lowering, layer: LayerReport, x: list[str]) -> str:
    op, rank = layer.node.op, len(layer.input_shapes[0])
    index = lo.const(layer, "index", np.array(op.index, np.int64))
    if op.axis != rank - 1:  # a non-channel axis: the layout stays channels first
        return lo.emit("Gather", [x[0], index], layer.name, axis=op.axis + 2)
    source = to_channels_last(lo, layer, x[0], rank)
    if rank - 1 < 2:
        return lo.emit("Gather", [source, index], layer.name, axis=rank)
    taken = lo.emit("Gather", [source, index], f"{layer.name}/taken", axis=rank)
    return lo.emit("Transpose", [taken], layer.name, perm=channels_first_perm(rank))


LOWERINGS = {
    "class_token": lower_class_token,
    "position_embedding": lower_position_embedding,
    "multi_head_attention": lower_attention,
    "permute": lower_permute,
    "take": lower_take,
}
