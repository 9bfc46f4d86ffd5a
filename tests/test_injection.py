"""Nothing in a spec runs or injects code.

YAML is loaded as plain data (no tags that construct objects). Names from a spec reach generated
source only as validated identifiers, other strings only as Python literals: hostile names are
refused with a located error; hostile docs give modules that parse into the expected constructs
only, pass ruff, and run without side effects.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import archspec
from archspec.cli import main
from archspec.frontend.names import IDENTIFIER_RE, RESERVED

PACKAGE = Path(archspec.__file__).parent
BACKENDS = ["keras", "torch"]
IMPORT_ROOTS = {"keras", "torch", "numpy", "math", "__future__"}
BANNED_CALLS = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "open",
    "input",
    "breakpoint",
    "globals",
    "locals",
    "vars",
    "getattr",
    "setattr",
    "delattr",
}
BANNED_MODULES = {"os", "sys", "subprocess", "shutil", "builtins", "importlib", "pathlib", "socket"}
MARKER = "pwned"

# --- YAML is data ------------------------------------------------------------------------------

TAGGED = [
    f"!!python/object/apply:os.system ['touch {MARKER}']",
    f"!!python/object/apply:subprocess.check_call [['touch', '{MARKER}']]",
    "!!python/name:os.system",
    "!!python/object/new:builtins.dict [[[a, 1]]]",
    "!!python/module:os",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!custom {x: 1}",
]


@pytest.mark.parametrize("value", TAGGED)
def test_yaml_tags_never_construct_objects(value: str, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"archspec: 1\nname: {value}\ninput: {{shape: [2]}}\nlayers: [relu: {{}}]\n")
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{spec}:2:7: error: YAML tag ")
    assert "not allowed" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_only_safe_yaml_entry_points_are_used() -> None:
    """No unsafe loader anywhere in the package (a static check of every ``yaml.X`` use)."""
    unsafe = {
        "load",
        "load_all",
        "unsafe_load",
        "full_load",
        "Loader",
        "UnsafeLoader",
        "FullLoader",
    }
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "yaml"
                and node.attr in unsafe
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: yaml.{node.attr}")
    assert found == []


# --- names are identifiers ----------------------------------------------------------------------

HOSTILE_NAMES = [
    "a'b",
    'a"b',
    "a\nb",
    "a\\b",
    "x)\nimport os\n(",
    "'''",
    '"""',
    "__import__",
    "__class__",
    "_hidden",
    "class",
    "lambda",
    "match",
    "None",
    "True",
    "\u0430ct",  # Cyrillic a
    "\uff41ct",  # fullwidth a
    "caf\u00e9",
    "a" * 64,
    "os.system",
    "a;b",
    "a b",
    "a-b",
    "1a",
    "",
]
NODE_ONLY = ["self", "forward", "keras", "torch", "register_buffer", "state_dict", "x"]


def spec_with(place: str, name: str) -> tuple[str, int, str]:
    """Spec text with ``name`` in one place, the line that place is on, and its spec path."""
    q = json.dumps(name)  # a JSON string is a valid YAML double-quoted scalar
    lines = {
        "spec": ([f"name: {q}"], 2, "name"),
        "input": ([f"input: {{shape: [4], name: {q}}}"], 3, "input.name"),
        "param": ([f"params: {{{q}: 1}}"], 4, "params."),
        "block": ([f"blocks: {{{q}: {{layers: [relu: {{}}]}}}}"], 4, "blocks."),
        "layer": (["layers:", "  - relu: {}", f"    name: {q}"], 6, "layers[0].name"),
    }
    extra, line, path = lines[place]
    head = ["archspec: 1"]
    head += extra if place == "spec" else ["name: net"]
    head += extra if place == "input" else ["input: {shape: [4]}"]
    if place in ("param", "block"):
        head += extra
    head += extra if place == "layer" else ["layers:", "  - relu: {}"]
    return "\n".join(head) + "\n", line, path


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=ascii)
@pytest.mark.parametrize("place", ["spec", "input", "param", "block", "layer"])
def test_hostile_names_are_refused_where_written(place: str, name: str, spec_file, capsys) -> None:
    text, line, path = spec_with(place, name)
    file = spec_file(text)
    assert main(["check", str(file)]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith(f"{file}:{line}:"), first
    assert f"error: {path}" in first
    assert "invalid name" in first or "invalid value" in first or "shadows" in first


@pytest.mark.parametrize("name", NODE_ONLY)
def test_names_that_would_shadow_framework_attributes_are_refused(name, spec_file, capsys) -> None:
    text, line, _ = spec_with("layer", name)
    assert main(["check", str(spec_file(text))]) == 2
    assert f":{line}:11: error: layers[0].name: invalid node name" in capsys.readouterr().err


def test_reserved_names_cover_torch_module_attributes() -> None:
    """torch is the judge: a submodule named like an ``nn.Module`` attribute would be hidden."""
    torch = pytest.importorskip("torch")
    public = {n for n in dir(torch.nn.Module) if IDENTIFIER_RE.match(n)}
    assert public - RESERVED == set()


# --- strings are literals ------------------------------------------------------------------------

HOSTILE_DOCS = [
    "quotes ' and \" and ''' and \"\"\" all together",
    '"""; import os; os.system("touch pwned"); """',
    "'''; __import__('os').system('touch pwned'); '''",
    "ends with a backslash \\",
    "backslashes \\n \\\\ \\N{BULLET} \\x41 \\u0041",
    "new\nlines\n\n  and indent\n",
    "tabs\tand\tmore",
    "jinja {{ 7 * 7 }} {% if true %}x{% endif %} {# c #}",
    "f-string {__import__('os').system('touch pwned')}",
    "non-ASCII: caf\u00e9, \u2603, \U0001d518",
    "# comment-like\nimport os\nos.system('touch pwned')",
    "x" * 300,
]
# Text that prints nothing or moves the cursor (terminal escapes, bidi overrides as in "Trojan
# source", zero-width and separator characters, lone surrogates): refused, so never emitted.
INVISIBLE_DOCS = [
    "\x1b[31m red",
    "carriage\rreturn",
    "bell\x07",
    "nul\x00",
    "\u202eevil",
    "zero\u200bwidth",
    "line\u2028separator",
    "\ud835 lone surrogate",
]


def doc_spec(doc: str, params: str = "") -> str:
    """A small DAG with BatchNorm and a residual add, carrying ``doc`` (top and in a block)."""
    q = json.dumps(doc, ensure_ascii=False)
    return (
        f"archspec: 1\nname: net\ndoc: {q}\n{params}input: {{shape: [6, 6, 2]}}\n"
        f"blocks:\n  unit:\n    doc: {q}\n    layers:\n      - conv2d: {{filters: 2, kernel_size: 3,"
        " padding: same}\n      - batch_norm: {}\n"
        "layers:\n  - unit: {}\n    name: u\n  - add: {}\n    inputs: [input, u]\n"
        "  - flatten: {}\n  - dense: {units: 3}\n"
    )


def assert_expected_constructs(source: str) -> None:
    """Parses; imports only the framework; calls nothing dangerous; no dunders but __init__."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {a.name.split(".")[0] for a in node.names} <= IMPORT_ROOTS, ast.dump(node)
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] in IMPORT_ROOTS, ast.dump(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in BANNED_CALLS, ast.unparse(node)
        elif isinstance(node, ast.Name):
            assert node.id not in BANNED_MODULES and not node.id.startswith("__"), node.id
        elif isinstance(node, ast.Attribute):
            assert not node.attr.startswith("__") or node.attr == "__init__", ast.unparse(node)


def string_constants_outside_docstrings(source: str) -> list[str]:
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and ast.get_docstring(
            node, clean=False
        ):
            docstrings.add(id(node.body[0].value))  # type: ignore[attr-defined]
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def ruff_problems(source: str, tmp_path: Path) -> str:
    ruff = shutil.which("ruff")
    if ruff is None:  # pragma: no cover
        return ""
    path = tmp_path / "generated_module.py"
    path.write_text(source, encoding="utf-8")
    out = []
    for args in (["check", "--no-cache", "--isolated"], ["format", "--check", "--isolated"]):
        result = subprocess.run([ruff, *args, str(path)], capture_output=True, text=True)
        if result.returncode:
            out.append(result.stdout + result.stderr)
    return "\n".join(out)


def run_without_side_effects(source: str, backend: str, workdir: Path, monkeypatch) -> object:
    """Execute the module and build its model in an empty directory that must stay empty."""
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    namespace: dict[str, object] = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)  # the generated code, under test
    model = namespace["build_model"]()  # type: ignore[operator]
    assert list(workdir.iterdir()) == []
    return model


def count(model: object, backend: str) -> int:
    if backend == "keras":
        return model.count_params()  # type: ignore[attr-defined]
    tensors = [*model.parameters(), *model.buffers()]  # type: ignore[attr-defined]
    return sum(t.numel() for t in tensors if t.dtype.is_floating_point)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("doc", HOSTILE_DOCS, ids=range(len(HOSTILE_DOCS)))
def test_hostile_docs_stay_literals(doc: str, backend: str, tmp_path: Path, monkeypatch) -> None:
    report = archspec.check(doc_spec(doc))
    source = archspec.generate(report, backend=backend)
    assert_expected_constructs(source)
    assert not [s for s in string_constants_outside_docstrings(source) if MARKER in s]
    assert ruff_problems(source, tmp_path) == ""
    model = run_without_side_effects(source, backend, tmp_path / "run", monkeypatch)
    assert count(model, backend) == report.total_params


@pytest.mark.parametrize("doc", INVISIBLE_DOCS, ids=ascii)
def test_invisible_characters_in_docs_are_refused(doc: str, spec_file, capsys) -> None:
    text = f"archspec: 1\nname: net\ndoc: {json.dumps(doc)}\ninput: {{shape: [2]}}\nlayers: [relu: {{}}]\n"
    file = spec_file(text)
    assert main(["check", str(file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{file}:3:6: error: doc: invalid value ")
    assert "is not printable text" in err


# Valid identifiers that collide with what generated code uses (modules, builtins, locals).
SHADOWING_PARAMS = [
    "keras",
    "layers",
    "torch",
    "nn",
    "F",
    "np",
    "math",
    "inputs",
    "outputs",
    "model",
    "x",
    "x_1",
    "self",
    "super",
    "print",
    "len",
    "int",
    "float",
    "build_model",
    "Net",
    "forward",
    "reset_parameters",
    "annotations",
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_params_named_like_generated_names(backend: str, tmp_path: Path, monkeypatch) -> None:
    """Each param feeds a layer size; the code must still mean what the spec means."""
    params = "params: {" + ", ".join(f"{p}: {i + 2}" for i, p in enumerate(SHADOWING_PARAMS))
    text = f"archspec: 1\nname: net\n{params}}}\ninput: {{shape: [3]}}\nlayers:\n" + "".join(
        f"  - dense: {{units: ${p}}}\n" for p in SHADOWING_PARAMS
    )
    report = archspec.check(text)
    source = archspec.generate(report, backend=backend)
    assert_expected_constructs(source)
    assert ruff_problems(source, tmp_path) == ""
    model = run_without_side_effects(source, backend, tmp_path / "run", monkeypatch)
    assert count(model, backend) == report.total_params


@pytest.mark.parametrize("backend", BACKENDS)
def test_unused_string_params_never_reach_code(backend: str) -> None:
    evil = "'); __import__('os').system('touch pwned') #"
    text = doc_spec("plain", params=f"params: {{evil: {json.dumps(evil)}, act: relu}}\n")
    source = archspec.generate(text, backend=backend)
    assert MARKER not in source
    assert_expected_constructs(source)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reference_specs_generate_only_expected_constructs(backend: str) -> None:
    for spec in sorted((PACKAGE.parent / "specs").glob("*.yaml")):
        assert_expected_constructs(archspec.generate(str(spec), backend=backend))


# --- The IR trusts nobody who built it (issue 12) ---------------------------------------------

TINY = (
    "archspec: 1\nname: tiny\ninput: {shape: [8, 8, 3]}\nlayers:\n"
    "  - conv2d: {filters: 2, kernel_size: 3}\n  - flatten: {}\n  - dense: {units: 3}\n"
)


def renamed(graph: object, index: int, name: str) -> object:
    """The graph rebuilt with node ``index`` renamed (inputs of its readers following)."""
    from dataclasses import replace

    old = graph.nodes[index].name  # type: ignore[attr-defined]
    nodes = [
        replace(
            node,
            name=name if i == index else node.name,
            inputs=tuple(name if n == old else n for n in node.inputs),
        )
        for i, node in enumerate(graph.nodes)  # type: ignore[attr-defined]
    ]
    output = name if graph.output == old else graph.output  # type: ignore[attr-defined]
    return replace(graph, nodes=tuple(nodes), output=output, outputs=(output,))


@pytest.mark.parametrize("name", ["conv\nimport os", "fc\n", "x y", "class", ""], ids=ascii)
def test_a_graph_with_a_renamed_node_cannot_be_built(name: str) -> None:
    from archspec.ir.graph import GraphError

    graph = archspec.load(TINY)
    with pytest.raises(GraphError, match="invalid name"):
        renamed(graph, 1, name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_graph_changed_after_loading_is_refused_by_every_entry_point(backend: str) -> None:
    """Frozen dataclasses can still be forced: the public API re-checks what it is given."""
    from archspec.ir.graph import GraphError

    graph = archspec.load(TINY)
    report = archspec.check(graph)
    object.__setattr__(graph.nodes[1], "name", "conv2d\nimport os\nos.system('touch pwned')")
    for call in (archspec.check, lambda g: archspec.generate(g, backend=backend)):
        for spec in (graph, report):
            with pytest.raises(GraphError, match="invalid name"):
                call(spec)


def test_a_graph_missing_a_middle_node_or_its_output_is_refused() -> None:
    from dataclasses import replace

    from archspec.ir.graph import GraphError

    graph = archspec.load(TINY)
    with pytest.raises(GraphError, match="reads 'conv2d' before it is defined"):
        replace(graph, nodes=graph.nodes[:1] + graph.nodes[2:])
    with pytest.raises(GraphError, match="output 'nowhere' is not a node"):
        replace(graph, output="nowhere", outputs=("nowhere",))
    forced = archspec.load(TINY)
    object.__setattr__(forced, "nodes", forced.nodes[:1] + forced.nodes[2:])
    with pytest.raises(GraphError):
        archspec.check(forced)  # never a 0-parameter report
