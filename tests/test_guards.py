"""Resource guards: specs that would exhaust memory or time are refused fast, before any framework.

The timings are loose (machines are shared); the point is "refused at once", not a benchmark.
"""

from __future__ import annotations

import json
import os
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


# --- Work is bounded, not only the result (issue 12) -----------------------------------------

FAILING_LEAF = "blocks: {b0: {layers: [{relu: 5}]}, b1: {layers: [{b0: {}, repeat: 50000}]}}\n"
MISSING_ARG = (
    "blocks: {b0: {args: {n: int}, layers: [{relu: {}}]}, "
    "b1: {layers: [{b0: {}, repeat: 50000}]}}\n"
)
SELF_CALL = "blocks: {b0: {layers: [{b0: {}}]}, b1: {layers: [{b0: {}, repeat: 50000}]}}\n"
WIDE_ADD = HEADER + (
    "layers:\n  - add: {}\n    inputs: [" + ", ".join(["input"] * 4000) + "]\n    repeat: 50000\n"
)
BIG_PAYLOAD = (
    HEADER
    + "params: {p: ["
    + ", ".join(["1"] * 5000)
    + "]}\nlayers:\n  - reshape: {target_shape: $p}\n    repeat: 50000\n"
)
MANY_BAD_REFS = (
    HEADER + "layers:\n  - add: {}\n    inputs: [a, b]\n    repeat: 20000\n"
)  # 150 bytes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + FAILING_LEAF + "layers: [{b1: {}, repeat: 50000}]\n", "expansion steps"),
        (HEADER + MISSING_ARG + "layers: [{b1: {}, repeat: 50000}]\n", "expansion steps"),
        (HEADER + SELF_CALL + "layers: [{b1: {}, repeat: 50000}]\n", "expansion steps"),
        (WIDE_ADD, "expands to more than 1,000,000 values"),
        (BIG_PAYLOAD, "expands to more than 1,000,000 values"),
        (MANY_BAD_REFS, "unknown input 'a'"),
    ],
    ids=["failing-leaf", "missing-arg", "self-call", "wide-add", "payload", "bad-refs"],
)
def test_expansion_work_is_bounded(spec_file, capsys, text: str, message: str) -> None:
    """Expansion that makes no layers, or few enormous ones, is refused at once; a problem met
    again and again (20,000 times here) is reported once."""
    seconds, rc = timed_check(spec_file(text))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert message in err
    assert len(err.splitlines()) <= 3, err
    assert "Traceback" not in err and "internal error" not in err
    assert seconds < FAST


def test_errors_stop_at_a_cap_and_hints_stay_cheap(spec_file, capsys) -> None:
    """10,000 names and 2,000 distinct misspelt references: at most MAX_ERRORS lines, the last
    saying so, each with its hint, in bounded time."""
    from archspec.limits import MAX_ERRORS

    named = "".join(f"  - relu: {{}}\n    name: layer{i}\n" for i in range(10_000))
    wrong = "".join(f"  - add: {{}}\n    inputs: [layr{i}, layer{i}]\n" for i in range(2_000))
    seconds, rc = timed_check(spec_file(HEADER + "layers:\n" + named + wrong))
    lines = capsys.readouterr().err.splitlines()
    assert rc == 2
    assert len(lines) == MAX_ERRORS
    assert "too many errors" in lines[-1]
    assert "unknown input 'layr0' (did you mean 'layer0'?)" in lines[0]
    assert seconds < 2 * FAST


DEEP_LIST = "[" * 4000 + "]" * 4000
SET_BOMB = (
    "["
    + ", ".join(
        [f"&a{0} [x, x, x, x, x, x, x, x, x]"]
        + [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 8)]
    )
    + "]"
)


@pytest.mark.parametrize(
    ("value", "message"),
    [(DEEP_LIST, "nests deeper than 64 levels"), (SET_BOMB, "alias bomb")],
    ids=["deep", "alias-bomb"],
)
def test_set_values_get_the_files_limits(spec_file, value: str, message: str) -> None:
    path = spec_file(
        HEADER.replace("[8, 8, 3]", "$shape") + "params: {shape: [8, 8, 3]}\n"
        "layers:\n  - relu: {}\n"
    )
    argv = [sys.executable, "-m", "archspec", "check", str(path), "--set", f"shape={value}"]
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert time.perf_counter() - start < 4 * FAST


def deep_list(depth: int = 5000) -> list:
    value: list = [1]
    for _ in range(depth):
        value = [value]
    return value


def self_referencing() -> list:
    loop: list = []
    loop.append(loop)
    return loop


def shared_bomb() -> list:
    value: list = [1] * 10
    for _ in range(8):
        value = [value] * 10  # 10^9 values by reference, 90 lists
    return value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (deep_list(), "must nest at most 64 levels"),
        (self_referencing(), "must nest at most 64 levels"),
        (shared_bomb(), "must hold at most 200,000 values"),
        ("x" * (5 * 2**20), "characters"),
    ],
    ids=["deep", "self-referencing", "shared-bomb", "huge-string"],
)
def test_library_overrides_get_the_files_limits(value: object, message: str) -> None:
    spec = "archspec: 1\nname: t\nparams: {shape: [8, 8, 3]}\ninput: {shape: $shape}\n"
    start = time.perf_counter()
    with pytest.raises(archspec.SpecError, match=message):
        archspec.load(spec + "layers:\n  - relu: {}\n", shape=value)
    assert time.perf_counter() - start < FAST


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_a_spec_that_is_not_a_regular_file_is_refused_unread(tmp_path: Path, kind: str) -> None:
    """A FIFO would block forever, /dev/zero would never end: refused before reading."""
    path = {"fifo": tmp_path / "spec.yaml", "device": Path("/dev/zero"), "directory": tmp_path}
    if kind == "fifo":
        os.mkfifo(path["fifo"])
    argv = [sys.executable, "-m", "archspec", "check", str(path[kind])]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert re.match(rf"^{re.escape(str(path[kind]))}:1:1: error: cannot read spec", result.stderr)


def test_a_nul_in_the_spec_path_is_a_spec_error() -> None:
    with pytest.raises(archspec.SpecError, match="cannot read spec"):
        archspec.load(Path("a\x00b.yaml"))


def test_build_does_not_reload_the_spec_per_unused_param(spec_file) -> None:
    """5,000 unused params once cost 5,000 reloads (150 s); generation is now linear."""
    params = "".join(f"  p{i}: {i}\n" for i in range(5000))
    text = "archspec: 1\nname: t\nparams:\n" + params + "  n: 3\ninput: {shape: [4]}\n"
    report = archspec.check(text + "layers:\n  - dense: {units: $n}\n")
    for backend in ("torch", "keras"):
        start = time.perf_counter()
        source = archspec.generate(report, backend=backend)
        assert time.perf_counter() - start < 2 * FAST, backend
        assert "p4999" in source
