"""`archspec lsp` end to end: a real LSP client (pytest-lsp) drives the server over stdio.

One server process serves the whole module. Its diagnostics must be the command's: for every
spec of the bad-spec corpus, the same messages at the same places as `archspec check` prints.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import time
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from archspec.cli import main  # noqa: E402
from archspec.lsp.server import SPEC_RE  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

CORPUS = ROOT / "tests" / "bad_specs"
RESNET = ROOT / "specs" / "resnet18.yaml"
ALEXNET = ROOT / "specs" / "alexnet.yaml"
LINE_RE = re.compile(r"^.*?:(\d+):(\d+): error: (.*)$")
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "archspec", "lsp"]),
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code"))
    )
    yield
    await lsp_client.shutdown_session()


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


async def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> list:
    """Open a document and wait for its diagnostics."""
    uri = uri_of(path)
    text = path.read_text(encoding="utf-8") if text is None else text
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "yaml", 1, text))
    )
    while uri not in client.diagnostics:
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


def close_doc(client: LanguageClient, path: Path) -> None:
    client.text_document_did_close(
        lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri_of(path)))
    )


def command_problems(path: Path) -> list[tuple[int, int, str]]:
    """(line, UTF-16 column, message) of every line `archspec check` prints, 0-based."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        main(["check", str(path)])
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for line in err.getvalue().splitlines():
        match = LINE_RE.match(line)
        assert match, line
        row, col = int(match.group(1)) - 1, int(match.group(2)) - 1
        text = lines[row] if row < len(lines) else ""
        found.append((row, len(text[:col].encode("utf-16-le")) // 2, match.group(3)))
    return found


def corpus() -> list[Path]:
    """The bad specs an editor can open (UTF-8 text) and check without command-line args."""
    found = []
    for path in sorted(CORPUS.glob("*.yaml")):
        try:
            lines = [*path.read_text(encoding="utf-8").split("\n", 2), ""]
        except UnicodeDecodeError:
            continue
        spec = SPEC_RE.search("\n".join(lines))
        if spec and not lines[1].startswith("# args:") and "\x00" not in lines[0] + lines[1]:
            found.append(path)
    return found


async def test_diagnostics_are_the_commands_for_the_whole_corpus(client: LanguageClient) -> None:
    for path in corpus():
        published = await open_doc(client, path)
        close_doc(client, path)
        got = [(d.range.start.line, d.range.start.character, d.message) for d in published]
        assert got == command_problems(path), path.name
        for problem in published:
            assert problem.severity == lsp.DiagnosticSeverity.Error
            assert problem.range.end.line == problem.range.start.line
            assert problem.range.end.character >= problem.range.start.character
    assert len(corpus()) > 100


async def test_a_shape_error_appears_and_goes_within_150_ms(client: LanguageClient) -> None:
    text = RESNET.read_text(encoding="utf-8")
    assert await open_doc(client, RESNET, text) == []
    uri = uri_of(RESNET)
    bad = text.replace("kernel_size: 7", "kernel_size: 700", 1)
    delays = []
    for version, new in enumerate([bad, text, bad, text, bad], start=2):
        client.diagnostics.pop(uri, None)
        start = time.perf_counter()
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [lsp.TextDocumentContentChangeWholeDocument(text=new)],
            )
        )
        while uri not in client.diagnostics:
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        delays.append(time.perf_counter() - start)
        problems = list(client.diagnostics[uri])
        if new is bad:
            (problem,) = problems
            assert problem.message.startswith("layers[0].conv2d.kernel_size: kernel 700 > input")
            line = bad.splitlines()[problem.range.start.line]
            assert line[problem.range.start.character : problem.range.end.character] == "700"
        else:
            assert problems == []
    # NOTE: the median, as the machines running the suite are shared; the goal is 150 ms.
    assert sorted(delays)[len(delays) // 2] < 0.3, delays
    close_doc(client, RESNET)


async def hover_text(client: LanguageClient, path: Path, line: int, char: int) -> str:
    found = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri_of(path)), lsp.Position(line, char))
    )
    return "" if found is None else found.contents.value


def position(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1)


async def test_hover_shows_layers_params_and_block_signatures(client: LanguageClient) -> None:
    text = RESNET.read_text(encoding="utf-8")
    await open_doc(client, RESNET, text)
    conv1 = await hover_text(
        client, RESNET, *position(text, "- conv2d: {filters: 64, kernel_size: 7", 4)
    )
    assert "**conv2d**" in conv1
    assert "| conv1 | (None, 112, 112, 64) | 9,408 | 118,013,952 |" in conv1
    param = await hover_text(client, RESNET, *position(text, "$bn_epsilon", 2))
    assert "`$bn_epsilon` = `1.0e-05`" in param or "`$bn_epsilon` = `1e-05`" in param
    arg = await hover_text(client, RESNET, *position(text, "{filters: $filters", 12))
    assert "argument of block `basic_block`" in arg and "required (int)" in arg
    call = await hover_text(client, RESNET, *position(text, "  - basic_block: {filters: 64}", 6))
    assert "block basic_block(filters: int)" in call
    assert "7 layers, output shape (None, 56, 56, 64), 74,240 params" in call
    # Inside a block, a layer shows every instance the calls made.
    inner = await hover_text(client, RESNET, *position(text, "        name: relu1", 10))
    assert "| layer1_0_relu1 |" in inner and "| layer4_1_relu1 |" in inner
    close_doc(client, RESNET)


async def completion_labels(
    client: LanguageClient, path: Path, text: str, at: tuple[int, int]
) -> dict:
    await open_doc(client, path, text)
    found = await client.text_document_completion_async(
        lsp.CompletionParams(lsp.TextDocumentIdentifier(uri_of(path)), lsp.Position(*at))
    )
    close_doc(client, path)
    items = found.items if isinstance(found, lsp.CompletionList) else found
    return {item.label: item for item in items}


async def test_completion_of_ops_fields_params_and_blocks(
    client: LanguageClient, tmp_path: Path
) -> None:
    from archspec.ops import OPS

    spec = tmp_path / "net.yaml"
    base = ALEXNET.read_text(encoding="utf-8")
    # An op name (and the spec's blocks) at a new list item.
    text = base.replace("  - flatten: {}", "  - \n  - flatten: {}", 1)
    labels = await completion_labels(client, spec, text, position(text, "  - \n", 4))
    assert set(OPS) - {"input"} <= set(labels) and "conv_relu_bn" in labels
    assert labels["conv2d"].documentation.value.startswith("2-D convolution")
    # Fields of the op being written, with their documentation and defaults.
    text = base.replace("  - flatten: {}", "  - dense: {units: 3, }\n  - flatten: {}", 1)
    labels = await completion_labels(client, spec, text, position(text, "units: 3, }", 10))
    assert {"units", "activation", "use_bias"} <= set(labels)
    assert "default" in labels["use_bias"].detail
    assert labels["units"].documentation.value
    # Params after `$`, and a block's arguments inside its definition.
    text = base.replace("{units: $n_classes", "{units: $", 1)
    labels = await completion_labels(client, spec, text, position(text, "{units: $", 9))
    assert {"n_classes", "weight_decay", "input_shape"} <= set(labels)
    text = base.replace("kernel_size: $kernel_size", "kernel_size: $", 1)
    labels = await completion_labels(client, spec, text, position(text, "kernel_size: $", 14))
    assert {"filters", "kernel_size", "n_classes"} <= set(labels)


async def test_go_to_definition_of_params_and_blocks(client: LanguageClient) -> None:
    text = RESNET.read_text(encoding="utf-8")
    await open_doc(client, RESNET, text)

    async def definition(at: tuple[int, int]) -> tuple[int, int]:
        found = await client.text_document_definition_async(
            lsp.DefinitionParams(lsp.TextDocumentIdentifier(uri_of(RESNET)), lsp.Position(*at))
        )
        assert isinstance(found, lsp.Location) and found.uri == uri_of(RESNET)
        return found.range.start.line, found.range.start.character

    assert await definition(position(text, "$bn_momentum}", 3)) == position(
        text, "bn_momentum: 0.9"
    )
    assert await definition(position(text, "- basic_block: {filters: 64}", 5)) == position(
        text, "basic_block:\n"
    )
    assert await definition(position(text, "{filters: $filters", 12)) == position(
        text, "filters: int}"
    )
    # `inputs: [bn2, input]` in basic_block names the block's own layer `bn2` (its op key).
    bn2 = text.rfind("- batch_norm", 0, text.index("        name: bn2")) + 2
    found = await definition(position(text, "inputs: [bn2, input]", 10))
    assert found == (text.count("\n", 0, bn2), bn2 - text.rfind("\n", 0, bn2) - 1)
    close_doc(client, RESNET)


async def test_other_yaml_files_get_no_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yaml"
    assert await open_doc(client, compose, "services:\n  web: {image: [unclosed\n") == []
    close_doc(client, compose)


async def test_the_outline_lists_params_blocks_and_layers(client: LanguageClient) -> None:
    await open_doc(client, RESNET)
    found = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(uri_of(RESNET)))
    )
    close_doc(client, RESNET)
    names = [symbol.name for symbol in found]
    assert names[:2] == ["input_shape", "n_classes"]
    assert {"basic_block", "downsample_block", "conv1", "fc"} <= set(names)
