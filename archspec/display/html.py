"""Notebook display: a checked graph as an HTML summary table, with its diagram as inline SVG.

Jupyter calls ``_repr_html_`` on the last value of a cell; ``Graph`` and ``Report`` hand that to
this module (imported only then). The table is the one ``archspec check`` prints (the same
columns and totals, from ``summary``); the diagram is ``archspec graph``'s, drawn by graphviz's
``dot`` when it is installed and left out when it is not.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING

from archspec.display import summary
from archspec.display.diagram import GraphError, render_bytes, to_dot

if TYPE_CHECKING:
    from archspec.ir.graph import Graph
    from archspec.passes.check import Report

# Past this many layers the diagram starts folded (it would fill the screen); past the second,
# it is left out (graphviz takes seconds to lay out thousands of boxes), and past the third the
# table shows its head and tail only.
OPEN_DIAGRAM_LAYERS, MAX_DIAGRAM_LAYERS = 40, 400
MAX_ROWS, HEAD_ROWS, TAIL_ROWS = 300, 200, 50
STYLE = (
    "<style>.archspec-summary td, .archspec-summary th {padding: 2px 8px; text-align: left;}"
    ".archspec-summary td.num, .archspec-summary th.num {text-align: right;"
    " font-variant-numeric: tabular-nums;}</style>"
)


def report_html(report: Report, layout: str = "channels_last") -> str:
    """The summary table, the totals and (with graphviz) the diagram of a checked graph."""
    header, rows = summary.table(report, layout)
    numeric = [name in summary.NUMERIC for name in header]
    head = "".join(_cell("th", name, num) for name, num in zip(header, numeric, strict=True))
    shown: list[list[str] | None] = list(rows)
    if len(rows) > MAX_ROWS:  # a note row (None) stands for the layers left out
        shown = [*rows[:HEAD_ROWS], None, *rows[-TAIL_ROWS:]]
    skipped = len(rows) - HEAD_ROWS - TAIL_ROWS
    body = "".join(
        f'<tr><td colspan="{len(header)}">... {skipped:,} more layers ...</td></tr>'
        if row is None
        else "<tr>"
        + "".join(_cell("td", c, n) for c, n in zip(row, numeric, strict=True))
        + "</tr>"
        for row in shown
    )
    totals = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in summary.totals(report)
    )
    parts = [
        STYLE,
        f'<div class="archspec-summary"><b>Model: "{escape(report.name)}"</b>',
        _doc(report.graph.doc),
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        f"<table>{totals}</table>",
        _diagram(report),
        "</div>",
    ]
    return "".join(parts)


def graph_html(graph: Graph) -> str:
    """A loaded graph, checked for display: its report, or its layers and the problems found."""
    from archspec.diagnostics import SpecError
    from archspec.passes.check import check

    try:
        return report_html(check(graph))
    except SpecError as err:
        rows = "".join(
            f"<tr><td>{escape(node.name)}</td><td>{escape(node.kind)}</td>"
            f"<td>{escape(node.op.describe())}</td><td>{escape(', '.join(node.inputs))}</td></tr>"
            for node in graph.nodes
        )
        problems = "".join(f"<li><code>{escape(d.format())}</code></li>" for d in err.diagnostics)
        return (
            f'{STYLE}<div class="archspec-summary"><b>Graph "{escape(graph.name)}"</b> '
            f"(does not check)<ul>{problems}</ul><table><thead><tr><th>Layer</th><th>Op</th>"
            f"<th>Attributes</th><th>Inputs</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )


def svg(report: Report, layout: str = "channels_last") -> str | None:
    """The diagram as SVG markup for embedding, or None without graphviz's ``dot``."""
    try:
        drawn = render_bytes(to_dot(report, layout), "svg").decode("utf-8")
    except GraphError:
        return None
    start = drawn.find("<svg")
    return drawn[start:] if start >= 0 else None


def _diagram(report: Report) -> str:
    drawn = svg(report) if len(report.layers) <= MAX_DIAGRAM_LAYERS else None
    if drawn is None:
        return ""
    # NOTE: graphviz sizes the drawing in points; let it shrink to the cell's width instead.
    drawn = re.sub(
        r'<svg width="[^"]*" height="[^"]*"', '<svg style="max-width: 100%"', drawn, count=1
    )
    state = " open" if len(report.layers) <= OPEN_DIAGRAM_LAYERS else ""
    return f"<details{state}><summary>Diagram</summary>{drawn}</details>"


def _cell(tag: str, text: str, numeric: bool) -> str:
    kind = ' class="num"' if numeric else ""
    return f"<{tag}{kind}>{escape(text)}</{tag}>"


def _doc(doc: str) -> str:
    return f"<p>{escape(doc)}</p>" if doc else ""
