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
    ("relu", {}, [(3, 3, 3)], (3, 3, 3), 0, 0),
    ("activation", {"function": "gelu"}, [(3,)], (3,), 0, 0),
    ("leaky_relu", {"negative_slope": 0.1}, [(3,)], (3,), 0, 0),
    ("add", {}, [(4, 4, 8), (4, 4, 8)], (4, 4, 8), 0, 0),
    ("multiply", {}, [(8,), (8,), (8,)], (8,), 0, 0),
    ("concatenate", {}, [(4, 4, 8), (4, 4, 3)], (4, 4, 11), 0, 0),
    ("concatenate", {"axis": 0}, [(4, 4, 8), (2, 4, 8)], (6, 4, 8), 0, 0),
    ("input", {"shape": [32, 32, 1]}, [], (32, 32, 1), 0, 0),
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
    ("add", {}, [(4, 4, 8), (4, 4, 3)], "inputs", "equal input shapes"),
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
