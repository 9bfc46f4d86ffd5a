"""Resource guards: specs that would exhaust memory or time are refused fast, before any framework.

The timings are loose (machines are shared); the point is "refused at once", not a benchmark.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import archspec
from archspec.backends import get_backend
from archspec.cli import main

FAST = 5.0  # seconds; each guard should need well under one
HEADER = "archspec: 1\nname: big\ninput: {shape: [8, 8, 3]}\n"
BOMB = "archspec: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{new}: &{new} [{', '.join([f'*{old}'] * 10)}]\n"
    for new, old in zip("bcdefgh", "abcdefg", strict=True)
)
# (999 inputs + 1 bias) x 10^9 units = 10^12 parameters, i.e. 4 TB of float32.
TERA_PARAMS = (
    "archspec: 1\nname: big\ninput: {shape: [999]}\nlayers:\n  - dense: {units: 1000000000}\n"
)
FLAT_REPEAT = HEADER + "layers:\n  - relu: {}\n    repeat: 1000000\n"
NESTED_REPEAT = HEADER + textwrap.dedent(
    """\
    blocks:
      thousand:
        layers:
          - relu: {}
            repeat: 1000
    layers:
      - thousand: {}
        repeat: 1000
    """
)
SMALL = HEADER + "layers:\n  - flatten: {}\n  - dense: {units: 5}\n"  # 192 * 5 + 5 = 965 params


def timed_check(path: Path, *args: str) -> tuple[float, int]:
    """Run ``check``: (seconds, exit status)."""
    start = time.perf_counter()
    rc = main(["check", str(path), *args])
    return time.perf_counter() - start, rc


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BOMB, "alias bomb"),
        (TERA_PARAMS, "the model would hold 1,000,000,000,000 parameters"),
        (FLAT_REPEAT, "repeat 1,000,000 exceeds the limit"),
        (NESTED_REPEAT, "the spec expands to more than 50,000 layers"),
        ("archspec: " + "[" * 100_000 + "]" * 100_000 + "\n", "nests deeper than 64 levels"),
        ("archspec: 1\nname: &a [*a]\n", "recursive YAML alias"),
        ("a: 1\n" + "#" * (5 * 2**20) + "\n", "larger than 4 MiB"),
    ],
    ids=["alias-bomb", "tera-params", "repeat-1e6", "nested-repeat-1e6", "deep", "cycle", "huge"],
)
def test_refused_fast(spec_file, capsys, text: str, message: str) -> None:
    seconds, rc = timed_check(spec_file(text))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert message in err
    assert len(err.splitlines()) == 1, err
    assert seconds < FAST


def test_library_api_refuses_too() -> None:
    with pytest.raises(archspec.SpecError, match="alias bomb"):
        archspec.check(BOMB)
    with pytest.raises(archspec.SpecError, match="over the limit of 2,000,000,000"):
        archspec.check(TERA_PARAMS)


def test_refused_before_any_framework_is_imported(tmp_path: Path) -> None:
    """``build`` refuses these specs without importing (hence allocating with) any framework."""
    specs = {"bomb": BOMB, "tera": TERA_PARAMS, "repeat": FLAT_REPEAT, "nested": NESTED_REPEAT}
    runs = []
    for name, text in specs.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        for backend in ("keras", "torch"):
            out = tmp_path / f"{name}_{backend}.py"
            runs.append(["build", str(path), "--backend", backend, "-o", str(out)])
    script = textwrap.dedent(
        """\
        import json, sys, time
        from archspec.cli import main
        results = []
        for argv in json.loads(sys.argv[1]):
            start = time.perf_counter()
            rc = main(argv)
            results.append([rc, time.perf_counter() - start])
        loaded = [m for m in ("tensorflow", "keras", "torch") if m in sys.modules]
        print(json.dumps({"results": results, "loaded": loaded}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(runs)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["loaded"] == [], result.stderr
    assert all(rc == 2 and seconds < FAST for rc, seconds in report["results"]), report
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.py"))


def test_max_params_lifts_the_ceiling_on_purpose(spec_file, capsys) -> None:
    path = spec_file(TERA_PARAMS)
    assert main(["check", str(path), "--format", "json", "--max-params", str(10**13)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["total_params"] == 10**12


def test_max_params_can_also_lower_it(spec_file, capsys) -> None:
    path = spec_file(SMALL)
    assert main(["check", str(path), "--max-params", "964"]) == 2
    err = capsys.readouterr().err
    assert re.search(r":6:5: error: layers\[1\]\.dense: the model would hold 965 parameters", err)
    assert "over the limit of 964" in err
    assert main(["check", str(path), "--max-params", "965"]) == 0


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_build_honours_max_params(spec_file, capsys, tmp_path: Path, backend: str) -> None:
    try:
        get_backend(backend)
    except ImportError:  # pragma: no cover - only while a backend is being written
        pytest.skip(f"{backend} backend not available")
    path, out = spec_file(SMALL), tmp_path / "model.py"
    argv = ["build", str(path), "--backend", backend, "-o", str(out)]
    assert main([*argv, "--max-params", "964"]) == 2
    assert "over the limit of 964" in capsys.readouterr().err
    assert not out.exists()
    assert main([*argv, "--max-params", "965"]) == 0
    assert "965 params" in capsys.readouterr().err
    assert out.exists()
