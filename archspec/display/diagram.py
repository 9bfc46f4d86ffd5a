"""Network diagrams with graphviz, like Keras's ``plot_model`` or Netron.

The DOT text is written here, not through a library: one box per layer (name and op on a
coloured bar, key attributes, output shape and parameters) and one edge per IR input, so
branches and merges show as the DAG they are. Every string from a spec is escaped for graphviz's
HTML-like labels; svg, png and pdf are rendered by the ``dot`` program.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

from archspec.display.summary import shape_text
from archspec.ops.base import ACTIVATIONS
from archspec.passes.check import LayerReport, Report

RENDERED = ("svg", "png", "pdf")
FORMATS = ("dot", "gv", *RENDERED)
ACTIVATION_KINDS = frozenset({"activation", *ACTIVATIONS})
# Fill colours by role, light enough for black text (Netron colours ops by category too).
COLOURS = {
    "input": "#e8e8e8",
    "layer": "#c6dbef",
    "activation": "#f4cccc",
    "pool": "#d9ead3",
    "norm": "#fff2cc",
    "merge": "#e1d5e7",
    "core": "#eeeeee",
}
_SPACE = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DOT_TIMEOUT_S = 120


class GraphError(Exception):
    """The diagram cannot be written (unknown format, graphviz missing or failing)."""


def html_text(text: str) -> str:
    """``text`` safe in a graphviz HTML-like label: XML-escaped, tabs and newlines as spaces,
    other control characters dropped, backslashes doubled (graphviz expands ``\\N`` and ``\\G``
    even there, written as entities or not)."""
    flat = _CONTROL.sub("", _SPACE.sub(" ", text))
    return html.escape(flat, quote=True).replace("\\", "\\\\")


def dot_id(text: str) -> str:
    """A quoted DOT identifier holding only word characters (``graph`` or ``3d`` stay valid)."""
    return '"' + re.sub(r"\W", "_", text, flags=re.ASCII) + '"'


def role(layer: LayerReport) -> str:
    """The colour group of a layer."""
    if layer.kind == "input":
        return "input"
    if layer.kind in ACTIVATION_KINDS:
        return "activation"
    if layer.node.op.family == "conv" or layer.kind == "dense":
        return "layer"
    return layer.node.op.family if layer.node.op.family in COLOURS else "core"


def node_label(layer: LayerReport, layout: str) -> str:
    """An HTML-like table: name and op on a coloured bar, attributes, output shape and params."""
    title = f"<B>{html_text(layer.name)}</B>"
    if layer.name != layer.kind:
        title += f" : {html_text(layer.kind)}"
    rows = [f'<TR><TD BGCOLOR="{COLOURS[role(layer)]}">{title}</TD></TR>']
    attributes = layer.node.op.describe()
    if attributes:
        lines = textwrap.wrap(attributes, width=36, break_long_words=True) or [attributes]
        text = "<BR/>".join(html_text(line) for line in lines)
        rows.append(f'<TR><TD><FONT POINT-SIZE="9">{text}</FONT></TD></TR>')
    tail = shape_text(layer.output_shape, layout)
    if layer.params:
        tail += f"  {layer.params:,} params"
    rows.append(f'<TR><TD><FONT POINT-SIZE="9">{html_text(tail)}</FONT></TD></TR>')
    body = "".join(rows)
    return f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">{body}</TABLE>>'


def to_dot(report: Report, layout: str = "channels_last", rankdir: str = "TB") -> str:
    """The network as DOT text: nodes ``n0, n1, ...`` in graph order, edges from IR inputs."""
    ids = {layer.name: f"n{index}" for index, layer in enumerate(report.layers)}
    title = html_text(f"{report.name}: {report.total_params:,} params, {report.macs:,} MACs")
    out = [
        f"digraph {dot_id(report.name)} {{",
        f'  graph [rankdir={rankdir}, label=<{title}>, labelloc=t, fontname="Helvetica", '
        "fontsize=12, nodesep=0.3, ranksep=0.35];",
        '  node [shape=plain, fontname="Helvetica", fontsize=10];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    for layer in report.layers:
        out.append(f"  {ids[layer.name]} [label={node_label(layer, layout)}];")
    for layer in report.layers:
        for source in layer.node.inputs:
            out.append(f"  {ids[source]} -> {ids[layer.name]};")
    out.append("}")
    return "\n".join(out) + "\n"


def output_format(path: str) -> str:
    """The format named by a file's extension, or GraphError."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise GraphError(
            f"cannot tell the format of {path!r}: use one of " + ", ".join(f".{f}" for f in FORMATS)
        )
    return suffix


def render(dot_text: str, fmt: str, target: Path) -> None:
    """Run graphviz's ``dot`` to write ``target`` in ``fmt`` (svg, png, pdf)."""
    target.write_bytes(render_bytes(dot_text, fmt))


def render_bytes(dot_text: str, fmt: str) -> bytes:
    """The drawing in ``fmt`` (svg, png, pdf), made by graphviz's ``dot``, or GraphError."""
    program = shutil.which("dot")
    if program is None:
        raise GraphError(
            "graphviz's 'dot' program is not installed or not on PATH, so .svg/.png cannot be "
            "drawn (install graphviz: apt-get install graphviz, brew install graphviz, conda "
            "install graphviz); a .dot file needs no graphviz"
        )
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GraphError(f"dot took longer than {DOT_TIMEOUT_S} s; write a .dot file") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphError(f"dot failed: {message[0] if message else done.returncode}")
    return done.stdout


def write(report: Report, path: str, layout: str = "channels_last", rankdir: str = "TB") -> None:
    """Write the diagram to ``path`` atomically (nothing is left behind on failure)."""
    from archspec.util.files import write_text, write_with

    fmt = output_format(path)
    text = to_dot(report, layout, rankdir)
    if fmt in RENDERED:
        write_with(path, lambda temp: render(text, fmt, temp))
    else:
        write_text(path, text)
