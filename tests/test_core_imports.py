"""`archspec check` and `archspec --help` never import a framework (they must stay instant)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import sys
from archspec.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = sorted(m for m in ("tensorflow", "keras", "torch", "onnx", "onnxruntime", "jax") if m in sys.modules)
print("IMPORTED:" + ",".join(heavy))
"""


def imported_by(argv: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    line = [line for line in result.stdout.splitlines() if line.startswith("IMPORTED:")][-1]
    return line.removeprefix("IMPORTED:")


def test_check_imports_no_framework() -> None:
    assert imported_by(["check", "specs/alexnet.yaml"]) == ""
    assert imported_by(["check", "specs/alexnet.yaml", "--format", "json"]) == ""


def test_help_imports_no_framework() -> None:
    assert imported_by(["--help"]) == ""
    assert imported_by(["check", "--help"]) == ""


def test_the_probe_can_see_a_framework_import() -> None:
    """Guard the guard: the same probe does report a framework when one is imported."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, torch; print('IMPORTED:' + str('torch' in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "IMPORTED:True" in result.stdout


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "archspec", "check", "specs/alexnet.yaml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0
    assert "46,793,482" in result.stdout
