"""Blocks with several inputs, and specs with several outputs, from the spec to every backend."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import archspec
from archspec.cli import main
from archspec.diagnostics import SpecError
from archspec.ir.graph import validate


def spec(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


TWO_HEADS = spec(
    """
    archspec: 1
    name: two_heads
    input: {shape: [8, 8, 3]}
    blocks:
      cbr:
        args: {filters: int, kernel_size: 1}
        layers:
          - conv2d: {filters: $filters, kernel_size: $kernel_size, padding: same, use_bias: false}
            name: conv
          - batch_norm: {}
            name: bn
          - relu: {}
            name: relu
      merge:
        inputs: [x, skip]
        layers:
          - conv2d: {filters: 6, kernel_size: 1}
            name: proj
            inputs: [skip]
          - add: {}
            name: sum
            inputs: [x, proj]
    layers:
      - cbr: {filters: 6}
        name: a
        inputs: [input]
      - cbr: {filters: 4, kernel_size: 3}
        name: b
        inputs: [input]
      - merge: {}
        name: m
        inputs: [a, b]
      - global_avg_pool2d: {}
      - dense: {units: 5}
        name: logits
      - global_max_pool2d: {}
        inputs: [b]
      - dense: {units: 2}
        name: aux
    outputs: [logits, aux]
    """
)


def test_blocks_take_named_inputs_and_outputs_are_listed() -> None:
    graph = archspec.load(TWO_HEADS)
    assert validate(graph) == []
    assert graph.outputs == ("logits", "aux") and graph.output == "logits"
    assert graph.node("a_conv").inputs == ("input",)
    assert graph.node("b_conv").inputs == ("input",)
    assert graph.node("m_proj").inputs == ("b_relu",)
    assert graph.node("m_sum").inputs == ("a_relu", "m_proj")
    report = archspec.check(graph)
    assert report.output_shapes == {"logits": (5,), "aux": (2,)}


def test_a_single_input_block_call_reads_any_layer_and_repeats_from_there() -> None:
    text = (
        TWO_HEADS.replace(
            "  - cbr: {filters: 4, kernel_size: 3}\n    name: b\n    inputs: [input]",
            "  - cbr: {filters: 4, kernel_size: 3}\n    name: b\n    inputs: [input]\n    repeat: 2",
        )
        .replace("inputs: [a, b]", "inputs: [a, b_2]")
        .replace("inputs: [b]", "inputs: [b_2]")
    )
    graph = archspec.load(text)
    assert graph.node("b_1_conv").inputs == ("input",)
    assert graph.node("b_2_conv").inputs == ("b_1_relu",)


def test_check_json_reports_every_output(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    path = tmp_path / "two_heads.yaml"
    path.write_text(TWO_HEADS)
    assert main(["check", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["output_shape"] == [[None, 5], [None, 2]]
    assert data["output_shapes"] == {"logits": [None, 5], "aux": [None, 2]}
    assert main(["check", str(path)]) == 0
    assert "Outputs: logits (None, 5), aux (None, 2)" in capsys.readouterr().out


MISUSES = [
    ("inputs: [a, b]", "inputs: [a]", "block 'merge' takes 2 inputs (x, skip), got 1"),
    ("    inputs: [a, b]\n", "", "block 'merge' takes 2 inputs (x, skip): pass them"),
    ("inputs: [a, b]", "inputs: [a, c]", "unknown input 'c'"),
    ("inputs: [a, b]", "inputs: [a, logits]", "unknown input 'logits'"),  # written later
    ("inputs: [x, proj]", "inputs: [input, proj]", "unknown input 'input'"),
    ("inputs: [x, skip]", "inputs: [x, x]", "input 'x' is declared twice"),
    ("    name: a\n    inputs: [input]", "    name: a\n    inputs: [input, input]",
     "block 'cbr' takes 1 input, got 2"),
    ("    inputs: [a, b]\n", "    inputs: [a, b]\n    repeat: 2\n",
     "a block with several inputs cannot repeat"),
    ("outputs: [logits, aux]", "outputs: [logits]", "layer 'global_max_pool2d' does not feed"),
    ("outputs: [logits, aux]", "outputs: [logits, logits, aux]", "output 'logits' is listed twice"),
    ("outputs: [logits, aux]", "outputs: [logits, axu]", "unknown output 'axu'"),
    ("outputs: [logits, aux]", "outputs: [logits, aux]\noutput: aux", "either 'output' or 'outputs'"),
    ("outputs: [logits, aux]", "outputs: []", "outputs"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "message"), MISUSES, ids=[m[2] for m in MISUSES])
def test_misuses_are_located_errors(old: str, new: str, message: str) -> None:
    assert old in TWO_HEADS
    with pytest.raises(SpecError) as info:
        archspec.check(TWO_HEADS.replace(old, new, 1))
    assert any(message in d.format() for d in info.value.diagnostics), info.value


def test_every_backend_returns_every_output_in_order() -> None:
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    from archspec.backends import get_backend

    report = archspec.check(TWO_HEADS)
    keras_model = archspec.build(report, backend="keras")
    torch_model = archspec.build(report, backend="torch").eval()
    assert [tuple(o.shape) for o in keras_model.outputs] == [(None, 5), (None, 2)]
    rng = np.random.default_rng(0)
    for variable in keras_model.weights:  # statistics off their defaults, so a slip shows
        low = 0.5 if variable.path.endswith(("moving_variance", "gamma")) else -0.5
        variable.assign(rng.uniform(low, low + 1.0, tuple(variable.shape)))
    archspec.transfer_weights(keras_model, torch_model)
    batch = rng.normal(size=(2, 8, 8, 3)).astype("float32")
    from_keras = keras_model(batch, training=False)
    assert isinstance(from_keras, list) and len(from_keras) == 2
    with torch.no_grad():
        from_torch = torch_model(torch.from_numpy(np.moveaxis(batch, -1, 1)))
    assert isinstance(from_torch, tuple) and len(from_torch) == 2
    weights = get_backend("torch").get_weights(torch_model, report)
    proto = get_backend("onnx").build(report, weights)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["logits", "aux"]
    from_onnx = session.run(None, {"input": np.moveaxis(batch, -1, 1)})
    for keras_out, torch_out, onnx_out in zip(from_keras, from_torch, from_onnx, strict=True):
        np.testing.assert_allclose(torch_out.numpy(), np.asarray(keras_out), atol=1e-5)
        np.testing.assert_allclose(onnx_out, np.asarray(keras_out), atol=1e-5)
    # and back: PyTorch's weights into a fresh Keras model give the same two outputs
    fresh = archspec.build(report, backend="keras")
    archspec.transfer_weights(torch_model, fresh)
    for old, new in zip(from_keras, fresh(batch, training=False), strict=True):
        np.testing.assert_allclose(np.asarray(new), np.asarray(old), atol=1e-6)


def test_generated_sources_return_every_output() -> None:
    keras_text = archspec.generate(TWO_HEADS, backend="keras")
    assert "outputs=[outputs, aux]" in keras_text
    torch_text = archspec.generate(TWO_HEADS, backend="torch")
    assert "-> tuple[torch.Tensor, torch.Tensor]:" in torch_text
    assert "return logits, aux" in torch_text


def test_verify_compares_every_output(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    path = tmp_path / "two_heads.yaml"
    path.write_text(TWO_HEADS)
    assert main(["verify", str(path)]) == 0
    assert ": OK" in capsys.readouterr().out
