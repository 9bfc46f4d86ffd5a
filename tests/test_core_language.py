"""The spec language: params, blocks, repeats, DAGs, names, and the IR they lower to."""

from __future__ import annotations

import textwrap

import pytest

import archspec
from archspec.diagnostics import SpecError
from archspec.ir.graph import validate


def spec(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


RESIDUAL = spec(
    """
    archspec: 1
    name: tiny_resnet
    params: {width: 8}
    input: {shape: [16, 16, 3]}
    blocks:
      residual:
        args: {filters: int}
        layers:
          - conv2d: {filters: $filters, kernel_size: 3, padding: same}
            name: conv_a
          - relu: {}
          - conv2d: {filters: $filters, kernel_size: 3, padding: same}
            name: conv_b
          - add: {}
            inputs: [conv_b, input]
            name: sum
          - relu: {}
    layers:
      - conv2d: {filters: $width, kernel_size: 3, padding: same}
        name: stem
      - residual: {filters: $width}
        repeat: 3
      - global_avg_pool2d: {}
      - dense: {units: 10}
    """
)


def test_residual_blocks_expand_into_a_dag() -> None:
    graph = archspec.load(RESIDUAL)
    assert validate(graph) == []
    names = [node.name for node in graph.nodes]
    assert names[:2] == ["input", "stem"]
    # Each block instance prefixes its named nodes; unnamed ones get global Keras-style names.
    assert {"residual_conv_a", "residual_1_conv_b", "residual_2_sum"} <= set(names)
    first_sum = graph.node("residual_sum")
    assert first_sum.inputs == ("residual_conv_b", "stem")
    second_sum = graph.node("residual_1_sum")
    assert second_sum.inputs == ("residual_1_conv_b", "relu_1")
    report = archspec.check(graph)
    per_conv = 3 * 3 * 8 * 8 + 8
    stem = 3 * 3 * 3 * 8 + 8
    assert report.total_params == stem + 6 * per_conv + 8 * 10 + 10
    assert report.output_shape == (10,)


def test_repeat_names_explicit_nodes_with_a_suffix() -> None:
    graph = archspec.load(
        spec(
            """
            archspec: 1
            name: mlp
            input: {shape: [4]}
            layers:
              - dense: {units: 4, activation: relu}
                name: hidden
                repeat: 3
              - dense: {units: 2}
            """
        )
    )
    assert [n.name for n in graph.nodes] == ["input", "hidden_1", "hidden_2", "hidden_3", "dense"]


def test_branches_and_concatenate() -> None:
    graph = archspec.load(
        spec(
            """
            archspec: 1
            name: inception_like
            input: {shape: [8, 8, 4]}
            layers:
              - conv2d: {filters: 2, kernel_size: 1}
                name: left
                inputs: [input]
              - conv2d: {filters: 3, kernel_size: 3, padding: same}
                name: right
                inputs: [input]
              - concatenate: {}
                inputs: [left, right]
              - flatten: {}
              - dense: {units: 2}
            """
        )
    )
    report = archspec.check(graph)
    assert report.layer("concatenate").output_shape == (8, 8, 5)
    assert report.output_shape == (2,)


def test_interpolation_and_block_defaults_from_params() -> None:
    graph = archspec.load(
        spec(
            """
            archspec: 1
            name: named
            params: {decay: 0.01, tag: fc}
            input: {shape: [6]}
            blocks:
              fc:
                args: {units: int, l2: $decay}
                layers:
                  - dense: {units: $units, kernel_regularizer: {l2: $l2}}
                    name: ${tag}_layer
            layers:
              - fc: {units: 3}
                name: head
            """
        )
    )
    node = graph.node("head_fc_layer")
    assert node.op.kernel_regularizer.l2 == 0.01
    assert node.param_refs == {"kernel_regularizer.l2": "decay"}


def test_overrides_are_typed_by_defaults() -> None:
    graph = archspec.load(RESIDUAL, width=4)
    assert archspec.check(graph).layer("stem").output_shape == (16, 16, 4)
    with pytest.raises(SpecError, match="must be int"):
        archspec.load(RESIDUAL, width="wide")
    with pytest.raises(SpecError, match="did you mean 'width'"):
        archspec.load(RESIDUAL, widht=4)


def test_output_selects_a_node_and_dead_layers_are_errors() -> None:
    text = spec(
        """
        archspec: 1
        name: two_heads
        input: {shape: [4]}
        layers:
          - dense: {units: 3}
            name: a
          - dense: {units: 2}
            name: b
        output: a
        """
    )
    with pytest.raises(SpecError, match="'b' does not feed the output"):
        archspec.load(text)


def test_forward_references_are_sorted_topologically() -> None:
    graph = archspec.load(
        spec(
            """
            archspec: 1
            name: forward
            input: {shape: [4]}
            layers:
              - add: {}
                inputs: [x1, x2]
              - dense: {units: 2}
              - dense: {units: 4}
                name: x1
                inputs: [input]
              - dense: {units: 4}
                name: x2
                inputs: [input]
            output: dense
            """
        )
    )
    assert [n.name for n in graph.nodes] == ["input", "x1", "x2", "add", "dense"]
    assert validate(graph) == []


def test_explicit_node_names_never_collide_with_auto_names() -> None:
    graph = archspec.load(
        spec(
            """
            archspec: 1
            name: clash
            input: {shape: [4]}
            layers:
              - dense: {units: 4}
              - dense: {units: 4}
                name: dense_1
              - dense: {units: 4}
            """
        )
    )
    assert [n.name for n in graph.nodes] == ["input", "dense", "dense_1", "dense_2"]


def test_floats_written_without_a_dot_are_floats() -> None:
    graph = archspec.load(
        spec(
            """
            archspec: 1
            name: f
            input: {shape: [4]}
            layers:
              - dense: {units: 2, kernel_regularizer: {l2: 1e-4}}
            """
        )
    )
    assert graph.node("dense").op.kernel_regularizer.l2 == pytest.approx(1e-4)
