"""The `archspec check` summary, against what Keras's own ``model.summary()`` and PyTorch say.

Per layer the table must agree with the live models: Keras's summary rows (same layer names,
output shapes and parameter counts, and the same totals lines with their sizes), PyTorch's
output shapes under ``--layout channels_first``. Rich draws it in a terminal; piped output is
plain and never imports rich.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest

import archspec
from archspec.cli import main
from archspec.display import summary
from archspec.passes.check import Report
from tests.conftest import ROOT

ALEXNET = ROOT / "specs" / "alexnet.yaml"
RESNET = ROOT / "specs" / "resnet18.yaml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A Keras 3 summary row: "│ conv2d (Conv2D)   │ (None, 54, 54, 96)   │   34,944 │ ..."
KERAS_ROW = re.compile(r"│ (\w+) \(\w+\)\s*│ (\([^)]*\))\s*│\s*([\d,]+) │")


@pytest.fixture(scope="module")
def alexnet() -> Report:
    return archspec.check(ALEXNET)


@pytest.fixture(scope="module")
def keras_summary(alexnet: Report) -> str:
    pytest.importorskip("keras")
    model = archspec.build(alexnet, backend="keras")
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "200")  # rich, inside Keras, would wrap long names at 80
        model.summary(line_length=120, print_fn=lambda text, line_break=True: lines.append(text))
    return "\n".join(lines)


def rows(text: str) -> dict[str, str]:
    """Layer name -> its line in a plain summary."""
    found = {}
    for line in text.splitlines():
        name = line.split(" ", 1)[0]
        found.setdefault(name, line)
    return found


def test_every_layer_has_a_row_with_its_figures(alexnet: Report) -> None:
    text = summary.to_text(alexnet)
    table = rows(text)
    for layer in alexnet.layers:
        line = table[layer.name]
        cells = re.split(r"\s{2,}", line.strip())
        assert cells[0] == layer.name and cells[1] == layer.kind
        assert summary.shape_text(layer.output_shape) in line
        assert cells[-2:] == [f"{layer.params:,}", f"{layer.macs:,}"], line
        assert layer.node.op.describe() in line


def test_rows_and_totals_agree_with_keras_summary(alexnet: Report, keras_summary: str) -> None:
    """Keras's own model.summary(): same names, shapes and params per layer, same totals lines
    (counts and their memory size, e.g. ``Total params: 46,793,482 (178.50 MB)``)."""
    keras_rows = {m[0]: (m[1], m[2]) for m in KERAS_ROW.findall(keras_summary)}
    assert len(keras_rows) >= len(alexnet.layers) - 1
    ours = rows(summary.to_text(alexnet))
    for layer in alexnet.layers[1:]:
        shape, params = keras_rows[layer.name]
        assert summary.shape_text(layer.output_shape) == shape
        assert f" {params}  " in ours[layer.name] + "  "
    text = summary.to_text(alexnet)
    for label in ("Total params", "Trainable params", "Non-trainable params"):
        keras_line = re.search(rf"^\s*{label}: .*$", keras_summary, re.MULTILINE)
        assert keras_line is not None
        assert keras_line.group(0).strip() in text.splitlines()


def test_channels_first_shapes_are_pytorchs(alexnet: Report) -> None:
    torch = pytest.importorskip("torch")
    from archspec.backends import get_backend

    backend = get_backend("torch")
    model = archspec.build(alexnet, backend="torch").eval()
    with torch.no_grad():
        outputs = backend.intermediate_outputs(model, torch.zeros(1, 3, 224, 224), alexnet)
    table = rows(summary.to_text(alexnet, layout="channels_first"))
    for layer in alexnet.layers[1:]:
        torch_shape = "(" + ", ".join(["None", *map(str, outputs[layer.name].shape[1:])]) + ")"
        assert torch_shape in table[layer.name], layer.name


def test_a_branching_graph_shows_what_each_layer_reads() -> None:
    report = archspec.check(RESNET)
    header, table = summary.table(report)
    assert header[-1] == summary.CONNECTED
    by_name = {row[0]: row for row in table}
    for layer in report.layers:
        assert by_name[layer.name][-1] == ", ".join(layer.node.inputs)
    merges = [layer for layer in report.layers if len(layer.node.inputs) > 1]
    assert merges and all("," in by_name[m.name][-1] for m in merges)


def test_a_chain_has_no_connected_column(alexnet: Report) -> None:
    assert summary.CONNECTED not in summary.table(alexnet)[0]


def test_rich_table_in_a_terminal(alexnet: Report) -> None:
    from rich.console import Console

    wide, narrow = io.StringIO(), io.StringIO()
    Console(file=wide, force_terminal=True, width=200).print(summary.to_rich(alexnet, width=200))
    Console(file=narrow, force_terminal=True, width=80).print(summary.to_rich(alexnet, width=80))
    for out in (wide.getvalue(), narrow.getvalue()):
        assert "\x1b[" in out  # styled
        plain = ANSI.sub("", out)
        for layer in alexnet.layers:
            assert layer.name in plain
            assert f"{layer.params:,}" in plain and f"{layer.macs:,}" in plain
        assert "Total params:" in plain and "46,793,482" in plain
    assert max(len(line) for line in ANSI.sub("", narrow.getvalue()).splitlines()) <= 80
    assert "Attributes" in ANSI.sub("", wide.getvalue())


def test_piped_output_is_plain(alexnet: Report, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ALEXNET)]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    assert out.rstrip("\n") == summary.to_text(alexnet, width=summary.PIPED_WIDTH)


def test_print_summary_uses_rich_only_on_a_tty(alexnet: Report) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    summary.print_summary(alexnet, file=terminal)
    assert "─" in terminal.getvalue()  # rich's rule, not the plain table's dashes
    piped = io.StringIO()
    summary.print_summary(alexnet, file=piped)
    assert piped.getvalue().rstrip("\n") == summary.to_text(alexnet, width=summary.PIPED_WIDTH)


def test_piped_check_does_not_import_rich() -> None:
    probe = (
        "import sys\nfrom archspec.cli import main\nmain(['check', 'specs/alexnet.yaml'])\n"
        "print('RICH' if 'rich' in sys.modules else 'PLAIN')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "PLAIN"


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0.00 B"), (1023, "1023.00 B"), (61_706 * 4, "241.04 KB"), (46_793_482 * 4, "178.50 MB")],
)
def test_readable_sizes_use_kerass_units(size: int, text: str) -> None:
    assert summary.readable_bytes(size) == text


@pytest.mark.parametrize(
    "argv",
    [["ops"], ["ops", "conv2d"], ["schema"], ["graph", "specs/alexnet.yaml"]],
    ids=" ".join,
)
def test_tool_commands_import_no_framework(argv: list[str]) -> None:
    probe = (
        f"import sys\nfrom archspec.cli import main\nmain({argv!r})\n"
        "heavy = ('tensorflow', 'keras', 'torch', 'onnx', 'onnxruntime', 'rich')\n"
        "print('IMPORTED:' + ','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "IMPORTED:"
