"""The command line as a fresh process: `python -m archspec`, `--version`, what `check` and
`--help` import, and the quick exit (output complete, status kept, nothing lost).

Timings live in bench/check_speed.py; these tests pin the behaviour the speed relies on.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import archspec
from archspec.cli import main
from tests.conftest import ROOT

ALEXNET = "specs/alexnet.yaml"
SCRIPT = Path(sys.executable).with_name("archspec")
ENV = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}


def run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "archspec"]
    return subprocess.run(
        [*command, *argv], capture_output=True, text=True, cwd=ROOT, timeout=120, env=ENV
    )


def imported_by(*argv: str) -> set[str]:
    """Every module a fresh `python -m archspec ARGV` imports (from -X importtime)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "archspec", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=ENV,
    )
    lines = [line.split("|")[-1] for line in result.stderr.splitlines() if "import time:" in line]
    return {line.strip() for line in lines}


def in_process(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def test_version_and_python_dash_m() -> None:
    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"archspec {archspec.__version__}"
    module = subprocess.run(
        [sys.executable, "-m", "archspec", "check", ALEXNET, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert module.returncode == 0, module.stderr
    assert '"total_params": 46793482' in module.stdout


def test_quick_exit_prints_exactly_what_main_prints() -> None:
    """`check` ends without the interpreter's clean-up: the output must still be complete."""
    for extra in ([], ["--format", "json"], ["--set", "n_classes=1000"]):
        fresh = run("check", ALEXNET, *extra)
        assert fresh.returncode == 0, fresh.stderr
        assert (0, fresh.stdout) == in_process("check", ALEXNET, *extra)


def test_quick_exit_keeps_the_error_status_and_messages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "archspec: 1\nname: bad\ninput: {shape: [8, 8, 3]}\nlayers:\n"
        "  - conv2d: {filters: 4, kernel_size: 9}\n  - dense: {units: -1}\n"
    )
    fresh = run("check", str(bad))
    assert fresh.returncode == 2
    assert fresh.stdout == ""
    assert f"{bad}:6:" in fresh.stderr and "Traceback" not in fresh.stderr


def test_check_imports_only_what_it_uses() -> None:
    modules = imported_by("check", ALEXNET)
    assert "archspec.frontend.load" in modules  # the probe sees archspec's own imports
    unused = {
        "importlib.metadata",  # pydantic's plugin scan: skipped on the command line
        "rich",  # piped output is plain text
        "jinja2",
        "numpy",
        "torch",
        "tensorflow",
        "archspec.api",
        "archspec.backends.torch",
        "archspec.backends.onnx",
        "archspec.backends.keras.live",  # the Keras lowering says which custom layers, no Keras
        "archspec.cli.build",
    }
    assert modules & unused == set()


def test_check_does_not_import_the_training_recipe() -> None:
    """A spec without ``training:`` never pays for the recipe table."""
    assert "archspec.training.recipe" not in imported_by("check", ALEXNET)


def test_help_imports_neither_pydantic_nor_yaml() -> None:
    for argv in (["--help"], ["check", "--help"], ["--version"]):
        modules = imported_by(*argv)
        assert "archspec.cli" in modules
        assert {"pydantic", "yaml", "archspec.ops"} & modules == set(), argv


def test_library_import_is_lazy_but_complete() -> None:
    probe = (
        "import sys, archspec\n"
        "assert 'pydantic' not in sys.modules\n"
        "from archspec import load, check, SpecError\n"
        "print(check(load('specs/lenet5.yaml')).total_params, SpecError.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["61706", "SpecError"]
    assert set(archspec.__all__) <= set(dir(archspec))


def test_a_reader_that_goes_away_gets_no_traceback() -> None:
    command = f"{SCRIPT} check {ALEXNET} | head -1"
    result = subprocess.run(
        command, shell=True, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.stdout.startswith('Model: "alexnet"')
    assert "Traceback" not in result.stderr
