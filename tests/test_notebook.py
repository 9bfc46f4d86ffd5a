"""Notebook display, run by a real kernel (nbclient + ipykernel): a loaded graph and a check
report show as a summary table (with the diagram as SVG where graphviz's dot is present), and
printing a report no longer dumps the whole object.
"""

from __future__ import annotations

import shutil
from html import unescape

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from tests.conftest import ROOT  # noqa: E402

CELLS = [
    "import archspec\ngraph = archspec.load('specs/alexnet.yaml')\ngraph",
    "report = archspec.check(graph)\nreport",
    "print(report)\nprint(graph)",
    "archspec.load('archspec: 1\\nname: bad\\ninput: {shape: [8, 8, 3]}\\n"
    "layers:\\n  - conv2d: {filters: 4, kernel_size: 9}\\n')",
    "archspec.load('archspec: 1\\nname: bad\\ninput: {shape: [8, 8, 3]}\\n"
    "layers:\\n  - conv2dd: {filters: 4}\\n')",
]


@pytest.fixture(scope="module")
def outputs() -> list[list[dict]]:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()
    return [cell.outputs for cell in notebook.cells]


def html_of(cell_outputs: list[dict]) -> str:
    (result,) = [o for o in cell_outputs if o["output_type"] == "execute_result"]
    return unescape(result["data"]["text/html"])


@pytest.mark.parametrize("cell", [0, 1], ids=["graph", "report"])
def test_graph_and_report_show_the_summary_table(outputs: list[list[dict]], cell: int) -> None:
    html = html_of(outputs[cell])
    assert 'Model: "alexnet"' in html
    assert "<table>" in html and "<th>Output shape</th>" in html
    assert "<td>(None, 54, 54, 96)</td>" in html  # conv1's output, as `archspec check` shows
    assert "46,793,482" in html and "2,752" in html
    if shutil.which("dot"):
        assert "<svg" in html and "</svg>" in html
    else:
        assert "<svg" not in html


def test_printing_a_report_is_short(outputs: list[list[dict]]) -> None:
    printed = "".join(o.get("text", "") for o in outputs[2] if o["output_type"] == "stream")
    report_line, graph_line = printed.splitlines()
    assert report_line.startswith("<Report 'alexnet': ")
    assert "46,793,482 params (46,790,730 trainable), output shape (10,)>" in report_line
    assert graph_line.startswith("<Graph 'alexnet': ")
    assert len(printed) < 300


def test_a_graph_that_does_not_check_shows_its_problems(outputs: list[list[dict]]) -> None:
    html = html_of(outputs[3])
    assert 'Graph "bad"' in html and "does not check" in html
    assert "layers[0].conv2d.kernel_size: kernel 9 > input 8" in html


def test_a_spec_that_does_not_load_fails_in_its_cell(outputs: list[list[dict]]) -> None:
    (error,) = [o for o in outputs[4] if o["output_type"] == "error"]
    assert error["ename"] == "SpecError"
    assert "unknown op or block 'conv2dd'" in error["evalue"]


def test_a_long_network_shows_head_and_tail_without_a_diagram() -> None:
    import archspec
    from archspec.display.html import MAX_ROWS, report_html
    from bench.specs import chain

    html = report_html(archspec.check(archspec.load(chain(MAX_ROWS + 100))))
    assert " more layers ...</td></tr>" in html
    assert html.count("<tr>") < MAX_ROWS
    assert "<svg" not in html
