"""Table-driven shape and parameter cases for every op, no framework involved.

Expected values are worked by hand from the published formulas (Keras/PyTorch docs: conv output
``floor((n + pads - d*(k-1) - 1) / s) + 1``; TensorFlow ``same`` = ``ceil(n / s)``; PyTorch
``ceil_mode``), written next to each case.
"""

from __future__ import annotations

import pytest

from archspec.ops import OPS, ShapeError
from archspec.ops.shapes import same_pads, window_output

# (kind, fields, input shapes, output shape, trainable, non-trainable)
CASES = [
    ("conv2d", {"filters": 8, "kernel_size": 3}, [(10, 10, 4)], (8, 8, 8), 3 * 3 * 4 * 8 + 8, 0),
    (
        "conv2d",
        {"filters": 8, "kernel_size": 3, "padding": "same", "strides": 2},
        [(11, 11, 4)],
        (6, 6, 8),
        296,
        0,
    ),
    (
        "conv2d",
        {"filters": 8, "kernel_size": 3, "padding": 1, "use_bias": False},
        [(10, 10, 4)],
        (10, 10, 8),
        288,
        0,
    ),
    (
        "conv2d",
        {"filters": 8, "kernel_size": [3, 5], "padding": [[1, 0], [2, 2]]},
        [(10, 10, 4)],
        (9, 10, 8),
        3 * 5 * 4 * 8 + 8,
        0,
    ),
    (
        "conv2d",
        {"filters": 8, "kernel_size": 3, "dilation_rate": 2},
        [(10, 10, 4)],
        (6, 6, 8),
        296,
        0,
    ),
    (
        "conv2d",
        {"filters": 8, "kernel_size": 3, "groups": 2},
        [(10, 10, 4)],
        (8, 8, 8),
        3 * 3 * 2 * 8 + 8,
        0,
    ),
    ("conv1d", {"filters": 5, "kernel_size": 4, "strides": 2}, [(20, 3)], (9, 5), 4 * 3 * 5 + 5, 0),
    (
        "depthwise_conv2d",
        {"kernel_size": 3, "depth_multiplier": 2},
        [(8, 8, 3)],
        (6, 6, 6),
        3 * 3 * 3 * 2 + 6,
        0,
    ),
    (
        "separable_conv2d",
        {"filters": 7, "kernel_size": 3, "padding": "same"},
        [(8, 8, 3)],
        (8, 8, 7),
        27 + 3 * 7 + 7,
        0,
    ),
    ("dense", {"units": 5}, [(12,)], (5,), 12 * 5 + 5, 0),
    ("dense", {"units": 5, "use_bias": False}, [(12,)], (5,), 60, 0),
    ("batch_norm", {}, [(4, 4, 6)], (4, 4, 6), 12, 12),
    ("batch_norm", {"scale": False}, [(6,)], (6,), 6, 12),
    ("layer_norm", {}, [(4, 6)], (4, 6), 12, 0),
    ("local_response_norm", {"size": 5}, [(6, 6, 8)], (6, 6, 8), 0, 0),
    ("max_pool2d", {"pool_size": 3, "strides": 2}, [(54, 54, 96)], (26, 26, 96), 0, 0),
    ("max_pool2d", {"pool_size": 2}, [(9, 9, 1)], (4, 4, 1), 0, 0),
    (
        "max_pool2d",
        {"pool_size": 3, "strides": 2, "rounding": "ceil"},
        [(14, 14, 1)],
        (7, 7, 1),
        0,
        0,
    ),
    (
        "max_pool2d",
        {"pool_size": 3, "strides": 2, "padding": 1},
        [(112, 112, 64)],
        (56, 56, 64),
        0,
        0,
    ),
    ("avg_pool2d", {"pool_size": 2, "padding": "same"}, [(9, 9, 2)], (5, 5, 2), 0, 0),
    ("global_avg_pool2d", {}, [(7, 7, 512)], (512,), 0, 0),
    ("global_max_pool2d", {}, [(7, 7, 512)], (512,), 0, 0),
    ("adaptive_avg_pool2d", {"output_size": 6}, [(12, 18, 4)], (6, 6, 4), 0, 0),
    ("zero_padding2d", {"padding": [[1, 2], [3, 4]]}, [(5, 5, 2)], (8, 12, 2), 0, 0),
    ("flatten", {}, [(5, 5, 256)], (6400,), 0, 0),
    ("reshape", {"target_shape": [-1, 4]}, [(6, 2)], (3, 4), 0, 0),
    ("dropout", {"rate": 0.5}, [(10,)], (10,), 0, 0),
    ("dropout", {"rate": 0.2, "per_sample": True}, [(7, 7, 80)], (7, 7, 80), 0, 0),
    ("relu", {}, [(3, 3, 3)], (3, 3, 3), 0, 0),
    ("activation", {"function": "gelu"}, [(3,)], (3,), 0, 0),
    ("leaky_relu", {"negative_slope": 0.1}, [(3,)], (3,), 0, 0),
    ("add", {}, [(4, 4, 8), (4, 4, 8)], (4, 4, 8), 0, 0),
    ("multiply", {}, [(8,), (8,), (8,)], (8,), 0, 0),
    ("concatenate", {}, [(4, 4, 8), (4, 4, 3)], (4, 4, 11), 0, 0),
    ("concatenate", {"axis": 0}, [(4, 4, 8), (2, 4, 8)], (6, 4, 8), 0, 0),
    ("input", {"shape": [32, 32, 1]}, [], (32, 32, 1), 0, 0),
    # Issue 14. Keras's Conv2DTranspose: same -> n * s; valid -> n * s + max(k - s, 0); with
    # output_padding (n - 1) * s + k - 2 * pad + output_padding; kernel (kh, kw, out, in).
    (
        "conv2d_transpose",
        {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"},
        [(5, 5, 4)],
        (10, 10, 8),
        3 * 3 * 8 * 4 + 8,
        0,
    ),
    (
        "conv2d_transpose",
        {"filters": 8, "kernel_size": 3, "strides": 2},
        [(5, 5, 4)],
        (11, 11, 8),
        296,
        0,
    ),
    (
        "conv2d_transpose",
        {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1},
        [(5, 5, 4)],
        (10, 10, 8),
        296,
        0,
    ),
    (
        "conv2d_transpose",
        {"filters": 8, "kernel_size": 1, "strides": 3},
        [(5, 5, 4)],
        (15, 15, 8),
        40,
        0,
    ),
    ("upsampling2d", {"size": [2, 3]}, [(4, 5, 3)], (8, 15, 3), 0, 0),
    ("cropping2d", {"cropping": [[1, 2], [3, 0]]}, [(10, 10, 2)], (7, 7, 2), 0, 0),
    ("rescaling", {"scale": 0.00392156862745098}, [(4, 4, 3)], (4, 4, 3), 0, 0),
    # Keras's Normalization without mean/variance holds mean (C,), variance (C,), count ().
    ("normalization", {}, [(4, 4, 3)], (4, 4, 3), 0, 7),
    ("normalization", {"mean": 0.5, "variance": 2.0}, [(4, 4, 3)], (4, 4, 3), 0, 0),
    ("layer_scale", {}, [(4, 4, 6)], (4, 4, 6), 6, 0),
    # torchvision's vit_b_16: class_token (1, 1, 768), pos_embedding (1, 197, 768), and per
    # block in_proj (3 * 768, 768) + (3 * 768,) and out_proj (768, 768) + (768,).
    ("class_token", {}, [(196, 768)], (197, 768), 768, 0),
    ("position_embedding", {}, [(197, 768)], (197, 768), 197 * 768, 0),
    ("multi_head_attention", {"num_heads": 12}, [(197, 768)], (197, 768), 4 * 768 * 769, 0),
    ("dense", {"units": 3072}, [(197, 768)], (197, 3072), 768 * 3072 + 3072, 0),
    ("permute", {"dims": [2, 1]}, [(5, 7)], (7, 5), 0, 0),
    ("take", {"index": 0}, [(197, 768)], (768,), 0, 0),
    ("global_avg_pool2d", {"keepdims": True}, [(7, 7, 512)], (1, 1, 512), 0, 0),
    # Keras's merge layers broadcast as NumPy: squeeze-and-excite, per-channel vectors.
    ("multiply", {}, [(8, 8, 16), (1, 1, 16)], (8, 8, 16), 0, 0),
    ("add", {}, [(4, 4, 8), (8,)], (4, 4, 8), 0, 0),
    # PyTorch's ceil_mode: floor((2 - 3 + 1) / 2) + 1 = 1 window over a 2x2 input (GoogLeNet at
    # 15x15 pools 2x2 maps with 3x3 windows).
    (
        "max_pool2d",
        {"pool_size": 3, "strides": 2, "rounding": "ceil"},
        [(2, 2, 8)],
        (1, 1, 8),
        0,
        0,
    ),
]


@pytest.mark.parametrize(("kind", "fields", "inputs", "output", "trainable", "frozen"), CASES)
def test_shape_and_params(kind, fields, inputs, output, trainable, frozen) -> None:
    op = OPS[kind].model_validate(fields)
    assert op.output_shape(inputs) == output
    weights = op.weights(inputs)
    assert sum(w.size for w in weights if w.trainable) == trainable
    assert sum(w.size for w in weights if not w.trainable) == frozen


def test_every_op_has_a_case() -> None:
    assert {case[0] for case in CASES} | {
        "elu",
        "relu6",
        "sigmoid",
        "tanh",
        "softmax",
        "silu",
        "gelu",
        "swish",
        "hard_sigmoid",
        "hard_swish",
    } >= set(OPS)


REFUSED = [
    (
        "conv2d",
        {"filters": 8, "kernel_size": 501},
        [(224, 224, 3)],
        "kernel_size",
        "kernel 501 > input 224",
    ),
    ("conv2d", {"filters": 8, "kernel_size": 3, "groups": 3}, [(10, 10, 4)], "groups", "groups=3"),
    ("conv2d", {"filters": 8, "kernel_size": 3}, [(10, 4)], None, "rank 3"),
    (
        "conv2d",
        {"filters": 8, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
        [(10, 10, 4)],
        "strides",
        "dilation",
    ),
    ("max_pool2d", {"pool_size": 9}, [(4, 4, 1)], "pool_size", "pool 9 > input 4"),
    ("max_pool2d", {"pool_size": 2, "padding": 2}, [(4, 4, 1)], "padding", "half the pool size"),
    ("dense", {"units": 3}, [(4, 4, 1)], None, "flat"),
    ("add", {}, [(4, 4, 8), (4, 4, 3)], "inputs", "shapes that broadcast"),
    ("multiply", {}, [(8, 8, 16), (1, 1, 8)], "inputs", "shapes that broadcast"),
    (
        "max_pool2d",
        {"pool_size": 3, "strides": 2, "rounding": "ceil"},
        [(1, 1, 1)],
        "pool_size",
        "pool 3 > input 1",
    ),
    ("multi_head_attention", {"num_heads": 5}, [(10, 768)], "num_heads", "must equal"),
    (
        "conv2d_transpose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2},
        [(4, 4, 1)],
        "output_padding",
        "smaller than strides",
    ),
    ("cropping2d", {"cropping": 3}, [(6, 6, 1)], "cropping", "leaves nothing"),
    ("permute", {"dims": [1, 1]}, [(4, 5)], "dims", "must order"),
    ("take", {"index": 5}, [(5, 4)], "index", "outside axis 0"),
    ("rescaling", {"scale": [1.0, 2.0]}, [(4, 4, 3)], "scale", "2 values for 3 channels"),
    ("concatenate", {}, [(4, 4, 8), (5, 4, 3)], "inputs", "other axes equal"),
    ("adaptive_avg_pool2d", {"output_size": 5}, [(13, 13, 4)], "output_size", "not a multiple"),
    ("reshape", {"target_shape": [7]}, [(6,)], "target_shape", "cannot reshape"),
]


@pytest.mark.parametrize(("kind", "fields", "inputs", "field", "message"), REFUSED)
def test_impossible_inputs_are_refused(kind, fields, inputs, field, message) -> None:
    op = OPS[kind].model_validate(fields)
    with pytest.raises(ShapeError) as caught:
        op.output_shape(inputs)
    assert caught.value.field == field
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "expected"),
    [
        (224, 11, 4, (3, 4)),
        (26, 5, 1, (2, 2)),
        (11, 3, 2, (1, 1)),
        (10, 3, 2, (0, 1)),
        (7, 1, 2, (0, 0)),
    ],
)
def test_same_padding_follows_tensorflow(size, kernel, stride, expected) -> None:
    before, after = same_pads(size, kernel, stride)
    assert (before, after) == expected
    # TensorFlow's promise: 'same' output is ceil(size / stride).
    assert window_output(size, kernel, stride, 1, (before, after)) == -(-size // stride)


def test_ceil_rounding_drops_a_window_starting_in_the_padding() -> None:
    # PyTorch: with ceil_mode, the last window must start inside the input or left padding.
    assert window_output(5, 2, 2, 1, (1, 1), ceil=True) == 3
    assert window_output(5, 2, 2, 1, (0, 0), ceil=False) == 2
    assert window_output(5, 2, 2, 1, (0, 0), ceil=True) == 3
