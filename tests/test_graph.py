"""`archspec graph`: DOT text we write ourselves, rendered by graphviz's own `dot` program.

Graphviz is the judge: it must parse our DOT (its JSON output lists exactly our nodes and the
IR's edges), draw an SVG naming every layer, and untrusted strings must survive escaping.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import archspec
from archspec.cli import main
from archspec.display import diagram as graph
from archspec.passes.check import Report
from tests.conftest import ROOT

ALEXNET = ROOT / "specs" / "alexnet.yaml"
RESNET = ROOT / "specs" / "resnet18.yaml"
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="graphviz's dot is not installed (apt-get install graphviz)"
)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def resnet() -> Report:
    return archspec.check(RESNET)


def graphviz_json(dot_text: str) -> dict:
    done = subprocess.run(
        ["dot", "-Tjson"], input=dot_text.encode(), capture_output=True, check=True, timeout=120
    )
    return json.loads(done.stdout)


@needs_dot
def test_graphviz_sees_our_nodes_and_the_irs_edges(resnet: Report) -> None:
    parsed = graphviz_json(graph.to_dot(resnet))
    names = {obj["_gvid"]: obj["name"] for obj in parsed["objects"]}
    ids = {layer.name: f"n{index}" for index, layer in enumerate(resnet.layers)}
    assert sorted(names.values()) == sorted(ids.values())
    edges = {(names[e["tail"]], names[e["head"]]) for e in parsed["edges"]}
    expected = {(ids[src], ids[layer.name]) for layer in resnet.layers for src in layer.node.inputs}
    assert edges == expected
    assert any(len(layer.node.inputs) > 1 for layer in resnet.layers)  # merges are drawn


@needs_dot
def test_svg_names_every_layer(tmp_path: Path) -> None:
    target = tmp_path / "alexnet.svg"
    assert main(["graph", str(ALEXNET), "-o", str(target)]) == 0
    root = ET.parse(target).getroot()
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    report = archspec.check(ALEXNET)
    for layer in report.layers:
        assert layer.name in texts.split(), layer.name
        assert graph.shape_text(layer.output_shape, "channels_last") in texts
    assert f"{report.total_params:,}" in texts


@needs_dot
def test_png_and_channels_first(tmp_path: Path) -> None:
    target = tmp_path / "resnet.png"
    assert main(["graph", str(RESNET), "-o", str(target), "--layout", "channels_first"]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dot_text = graph.to_dot(archspec.check(RESNET), "channels_first")
    assert "(None, 64, 112, 112)" in dot_text  # conv1 output in PyTorch's (C, H, W) order


def test_dot_needs_no_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    target = tmp_path / "net.dot"
    assert main(["graph", str(ALEXNET), "-o", str(target)]) == 0
    assert target.read_text().startswith('digraph "alexnet" {')


def test_missing_dot_is_a_clear_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    target = tmp_path / "net.svg"
    assert main(["graph", str(ALEXNET), "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert "dot" in err and "install graphviz" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_unknown_extension_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(ALEXNET), "-o", str(tmp_path / "net.jpeg")]) == 2
    assert ".svg" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_without_output_prints_dot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(ALEXNET)]) == 0
    out = capsys.readouterr().out
    assert out.startswith('digraph "alexnet" {') and out.rstrip().endswith("}")


UNTRUSTED = ['<b>"x" & y</b>', "a\\nb \\N \\G \\", "]; evil -> n0 [label=x", "tab\tand\x01control"]


@pytest.mark.parametrize("text", UNTRUSTED)
def test_escaping_round_trips_through_xml(text: str) -> None:
    element = ET.fromstring(f"<x>{graph.html_text(text)}</x>")
    assert element.text is not None
    assert element.text.replace("\\\\", "\\") == text.replace("\x01", "").replace("\t", " ")


@needs_dot
def test_untrusted_text_is_drawn_verbatim(tmp_path: Path) -> None:
    """Graphviz draws every hostile string literally, inside its own label."""
    labels = "".join(
        f"  n{i} [shape=plain, label=<{graph.html_text(text)}>];\n"
        for i, text in enumerate(UNTRUSTED)
    )
    target = tmp_path / "x.svg"
    name = graph.dot_id('a b"c\\')
    graph.render(f"digraph {name} {{\n{labels}}}\n", "svg", target)
    root = ET.parse(target).getroot()
    texts = [t.text for t in root.iter(f"{SVG}text")]
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    assert len(nodes) == len(UNTRUSTED)
    for text in UNTRUSTED:
        assert " ".join(text.replace("\x01", "").split()) in [
            " ".join((t or "").split()) for t in texts
        ]
