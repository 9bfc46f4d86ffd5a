"""Rows of the PyTorch lowering table for sequences of tokens (ViT): class token, position
embedding, self-attention, permute, take.

An IR sequence (L, D) is ``(N, D, L)`` in PyTorch (channels first, as every other tensor), so
learned tensors are stored in that orientation (the position embedding as (D, L)) and
attention moves features last around ``nn.MultiheadAttention(batch_first=True)``.
"""

from __future__ import annotations

from archspec.backends.torch.calls import (
    Call,
    Ctx,
    Lowered,
    channels_first,
    channels_last,
    torch_dim,
)
from archspec.codegen.common import pyrepr

HOLDER_NOTE = "a plain nn.Module holds the learned tensor, so its key is '<layer>.<weight>'"


def class_token(ctx: Ctx) -> Lowered:
    features = ctx.in_shape[-1]
    setup = (f"{ctx.attr}.token = nn.Parameter(torch.zeros({features}))",)
    token = f"{ctx.attr}.token.view(1, -1, 1).expand({ctx.inputs[0]}.shape[0], -1, -1)"
    forward = f"torch.cat([{token}, {ctx.inputs[0]}], dim=2)"
    notes = ("the token goes first along the sequence (dim 2, features are dim 1)",)
    return Lowered(forward, Call("nn.Module"), setup, (HOLDER_NOTE,), notes)


def position_embedding(ctx: Ctx) -> Lowered:
    length, features = ctx.in_shape
    setup = (f"{ctx.attr}.embedding = nn.Parameter(torch.zeros({features}, {length}))",)
    note = "stored (features, positions), as the sequence is (N, features, positions) here"
    return Lowered(f"{ctx.inputs[0]} + {ctx.attr}.embedding", Call("nn.Module"), setup, (note,))


def attention(ctx: Ctx) -> Lowered:
    op, features = ctx.op, ctx.in_shape[-1]
    call = Call("nn.MultiheadAttention", [pyrepr(features), ctx.value("num_heads")])
    if op.dropout:
        call.kwargs.append(("dropout", ctx.value("dropout")))
    if not op.use_bias:
        call.kwargs.append(("bias", "False"))
    call.kwargs.append(("batch_first", "True"))
    tokens = f"{ctx.inputs[0]}.mT"  # (N, D, L) -> (N, L, D)
    expr = f"{ctx.attr}({tokens}, {tokens}, {tokens}, need_weights=False)[0].mT"
    notes = ("self-attention on (N, tokens, features): .mT swaps the last two axes",)
    return Lowered(expr, call, forward_notes=notes)


def permute(ctx: Ctx) -> Lowered:
    rank = len(ctx.in_shape)
    dims = ", ".join(str(d) for d in (0, *ctx.op.dims))
    expr = f"{channels_last(ctx.inputs[0], rank)}.permute({dims})"
    notes = ("permutes in channels_last order, as the spec computes it",)
    return Lowered(channels_first(expr, rank), forward_notes=notes)


def take(ctx: Ctx) -> Lowered:
    op, rank = ctx.op, len(ctx.in_shape)
    if op.axis != rank - 1:  # dropping a non-channel axis keeps the layout channels first
        dim = torch_dim(op.axis, rank)
        return Lowered(f"{ctx.inputs[0]}.select({dim}, {pyrepr(op.index)})")
    expr = f"{channels_last(ctx.inputs[0], rank)}.select({rank}, {pyrepr(op.index)})"
    return Lowered(channels_first(expr, rank - 1))
