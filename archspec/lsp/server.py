"""``archspec lsp``: the checker inside the editor, a language server over stdio (pygls).

Each open spec is analysed in process (``analysis.analyze``: the ``load`` and ``check`` that
``archspec check`` runs) a short pause after the last edit, and the diagnostics are published:
the command's messages, every problem at once, shape errors included. Hover, completion and go
to definition read the latest analysis of the document.
"""

from __future__ import annotations

import asyncio
import re

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from archspec.diagnostics import Diagnostic
from archspec.lsp import features
from archspec.lsp.analysis import Analysis, analyze

# NOTE: long enough to skip the intermediate states of a burst of keystrokes, short enough that
# a resnet18-sized spec (about 20 ms to check, warm) is answered well within 150 ms.
DEBOUNCE_S = 0.05
# What makes a YAML file a spec to the server: a top-level `archspec:` or `layers:` key. Other
# YAML files (an editor may start the server for every one) get no diagnostics.
SPEC_RE = re.compile(r"^(archspec|layers)\s*:", re.MULTILINE)
# A token ends at a YAML delimiter; its range is what the editor underlines.
TOKEN_END = re.compile(r"""("[^"]*"?|'[^']*'?|[^\s,:\[\]{}#]+)""")
# Compiled at start-up, so that the first edit does not pay for the common ops' validators.
WARM_UP = """\
archspec: 1
name: warm
input: {shape: [8, 8, 3]}
layers:
  - conv2d: {filters: 2, kernel_size: 3}
  - batch_norm: {}
  - relu: {}
  - max_pool2d: {pool_size: 2}
  - add: {}
    inputs: [max_pool2d, max_pool2d]
  - global_avg_pool2d: {}
  - dense: {units: 2}
"""


class SpecServer(LanguageServer):
    """A pygls server that keeps one ``Analysis`` per open document."""

    def __init__(self, version: str) -> None:
        super().__init__("archspec", version, text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.analyses: dict[str, Analysis] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}

    def analysis(self, uri: str) -> Analysis:
        """The latest analysis of ``uri`` (made now if there is none yet)."""
        found = self.analyses.get(uri)
        text = self.workspace.get_text_document(uri).source
        if found is None or found.text != text:
            found = self.refresh(uri)
        return found

    def refresh(self, uri: str) -> Analysis:
        """Analyse the document now and publish its diagnostics."""
        self.pending.pop(uri, None)
        document = self.workspace.get_text_document(uri)
        if SPEC_RE.search(document.source):
            found = analyze(document.source, filename_of(uri))
        else:
            found = Analysis(filename_of(uri), document.source, [])
        self.analyses[uri] = found
        diagnostics = [to_lsp(d, found.text) for d in found.diagnostics]
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri, diagnostics, version=document.version)
        )
        return found

    def schedule(self, uri: str) -> None:
        """Analyse ``uri`` once the edits pause for ``DEBOUNCE_S``."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self.pending[uri] = loop.call_later(DEBOUNCE_S, self.refresh, uri)


def filename_of(uri: str) -> str:
    """The file name diagnostics are reported against (the path, as the command prints it)."""
    path = to_fs_path(uri)
    return path if path is not None else uri


def to_lsp(diagnostic: Diagnostic, text: str) -> lsp.Diagnostic:
    """The protocol's form of a diagnostic: the command's message (everything after
    ``FILE:LINE:COL: error: ``), ranged over the token it points at."""
    formatted = diagnostic.format()
    prefix = f"{diagnostic.location}: error: "
    message = formatted[len(prefix) :] if formatted.startswith(prefix) else formatted
    return lsp.Diagnostic(
        range=token_range(text, diagnostic.location.line, diagnostic.location.col),
        message=message,
        severity=lsp.DiagnosticSeverity.Error,
        source="archspec",
    )


def token_range(text: str, line: int, col: int) -> lsp.Range:
    """From a 1-based (line, character column) to the end of the token there, in the
    protocol's UTF-16 units."""
    lines = text.splitlines()
    row = max(line - 1, 0)  # may be the empty line after the last (an unclosed quote)
    body = lines[row] if row < len(lines) else ""
    start = min(max(col - 1, 0), len(body))
    match = TOKEN_END.match(body, start)
    end = match.end() if match and match.end() > start else min(start + 1, len(body))
    return lsp.Range(lsp.Position(row, _utf16(body[:start])), lsp.Position(row, _utf16(body[:end])))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def make_server(version: str) -> SpecServer:
    """The server (reporting ``version``) with every feature registered."""
    server = SpecServer(version)

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: SpecServer, params: lsp.InitializedParams) -> None:
        analyze(WARM_UP, "<warm-up>")  # compile the common ops' validators before the first edit

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SpecServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.refresh(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SpecServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SpecServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.refresh(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SpecServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        handle = ls.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()
        ls.analyses.pop(uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: SpecServer, params: lsp.HoverParams) -> lsp.Hover | None:
        found = ls.analysis(params.text_document.uri)
        return features.hover(found, params.position.line, params.position.character)

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["$", "{", " "])
    )
    def completion(ls: SpecServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        found = ls.analysis(params.text_document.uri)
        items = features.completion(found, params.position.line, params.position.character)
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: SpecServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        uri = params.text_document.uri
        found = ls.analysis(uri)
        return features.definition(found, uri, params.position.line, params.position.character)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def outline(ls: SpecServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
        return features.symbols(ls.analysis(params.text_document.uri))

    return server


def serve(version: str) -> None:
    """Run the server on stdin/stdout until the client shuts it down."""
    make_server(version).start_io()
