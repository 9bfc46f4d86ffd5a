"""The benchmarks in bench/ run (in a tiny mode), so they cannot rot; and their baselines are
what they claim to be. No timing is asserted here: machines are shared and noisy, and
`bench/run` reports the ratios.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from typing import Any

import pytest
import yaml

import archspec
from archspec.diagnostics import SpecError
from archspec.frontend import source
from bench import check_speed, scale
from bench.common import Result
from bench.specs import GENERATORS
from tests.conftest import ROOT, SPECS


def test_bench_run_entry_point_parses_its_arguments() -> None:
    result = subprocess.run(
        [str(ROOT / "bench" / "run"), "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "--quick" in result.stdout
    bad = subprocess.run(
        [str(ROOT / "bench" / "run"), "no_such_part"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2
    assert "unknown part" in bad.stderr


def test_results_travel_between_processes() -> None:
    result = Result("a ratio", 2.5, "x", ">= 2x", True, "detail", "cmd")
    assert Result.from_line(result.to_json_line()) == result
    assert Result.from_line("some other output") is None


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generated_specs_have_the_size_and_shape_they_claim(kind: str) -> None:
    count = 62
    graph = archspec.load(GENERATORS[kind](count))
    report = archspec.check(graph)
    assert len(graph.nodes) - 1 == count  # the input is not a layer
    assert report.output_shape == (10,)
    fan_in = max(len(node.inputs) for node in graph.nodes)
    if kind == "dag":
        assert fan_in == 3, "the DAG must have real fan-in (residual adds of three)"
        assert {"add", "concatenate"} <= {node.kind for node in graph.nodes}
    else:
        assert fan_in == 1


def test_check_speed_runs_and_check_imports_no_framework() -> None:
    results = {r.name.split(" (")[0]: r for r in check_speed.run(frameworks=(), smoke=True)}
    entry = next(r for name, r in results.items() if name.startswith("`python -m archspec`"))
    assert entry.ok, entry.detail  # a framework imported, or `--version` / `-m` broken
    assert all(r.value > 0 for r in results.values())
    assert {r.unit for r in results.values()} == {"x", "s"}


def test_check_imports_nothing_heavy() -> None:
    """`archspec check` must stay instant: no numeric or rendering library on its path."""
    probe = (
        "import contextlib, io, sys\n"
        "from archspec.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['check', 'specs/alexnet.yaml'])\n"
        "heavy = ('numpy', 'jinja2', 'rich', 'jsonschema', 'tensorflow', 'torch', 'keras')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_scale_runs_at_a_tiny_size() -> None:
    results = scale.run(small=20, large=80, smoke=True)
    names = [r.name for r in results]
    assert len(names) == 2 * len(GENERATORS) + len(scale.CLI_KINDS)
    assert all(r.value > 0 for r in results)


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_models_benchmark_runs_on_equivalent_models(backend: str) -> None:
    """The baselines are the same networks (the forward benchmark refuses to time models whose
    outputs differ, given the same weights), and both benchmarks run once."""
    from bench import frameworks, models

    framework = frameworks.load(backend)
    small = archspec.check(archspec.load("specs/vgg16.yaml", input_shape=[32, 32, 3], n_classes=7))
    vgg = framework.hand["vgg16"](image=32, n_classes=7)
    if backend == "keras":
        assert vgg.count_params() == small.total_params
    else:
        assert sum(p.numel() for p in vgg.parameters()) == small.torch_parameters
    del vgg
    results = models.build_speed(framework, ("alexnet",), quick=True, smoke=True)
    results += models.forward_speed(framework, quick=True, batch=1, smoke=True)
    assert [r.unit for r in results] == ["x", "x", "x"]
    assert all(r.value > 0 for r in results)


# The performance fixes the benchmarks led to must not change behaviour.


def _tree(node: source.YNode) -> Any:
    """A located tree as plain data, for comparing two parses."""
    where = (node.location.line, node.location.col)
    if isinstance(node, source.YScalar):
        return (where, type(node.value).__name__, node.value)
    if isinstance(node, source.YSeq):
        return (where, [_tree(item) for item in node.items])
    assert isinstance(node, source.YMap)
    keys = {k: (v.line, v.col) for k, v in node.key_locations.items()}
    return (where, keys, {k: _tree(v) for k, v in node.items.items()})


SCALARS = """\
plain: [1e-4, 1.0e-4, -3, 0x1f, 0o17, 2.5, .5, true, false, null, ~, text]
quoted: ['1e-4', "2", 'yes', "null"]
block: |
  two
  lines
nested: {a: [{b: c}], d: {}}
"""


@pytest.mark.parametrize("path", [*SPECS, "dag", "chain", "scalars"], ids=str)
def test_libyaml_reads_specs_exactly_as_the_python_parser(path: Any, monkeypatch) -> None:
    if path == "scalars":
        text = SCALARS
    else:
        text = GENERATORS[path](40) if isinstance(path, str) else path.read_text(encoding="utf-8")
    fast = _tree(source.parse_yaml(text, "spec.yaml"))
    monkeypatch.setattr(source, "_FAST_LOADER", yaml.SafeLoader)
    assert _tree(source.parse_yaml(text, "spec.yaml")) == fast


def test_load_and_check_leave_the_garbage_collector_as_they_found_it() -> None:
    assert gc.isenabled()
    archspec.check(archspec.load(SPECS[0]))
    assert gc.isenabled()
    with pytest.raises(SpecError):
        archspec.load("archspec: 1\nname: x\ninput: {shape: [4]}\nlayers: [{dense: {}}]\n")
    assert gc.isenabled()
    gc.disable()
    try:
        archspec.check(archspec.load(SPECS[0]))
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
