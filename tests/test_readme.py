"""The README's two set-up commands are the ones CI runs and the ones a new user copies."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> list[str]:
    """The bash blocks of the README's Set-up section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)


def test_readme_has_exactly_an_install_and_run_command_and_a_test_command() -> None:
    install, tests = setup_commands()
    assert "pip install" in install and "archspec build specs/alexnet.yaml" in install
    assert "pip install" in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == setup_commands()[1]


def test_setup_commands_pin_the_cpu_torch() -> None:
    """An unpinned torch would pull a multi-GB CUDA build on a fresh machine."""
    assert all('"torch==2.13.0"' in command for command in setup_commands())
