"""The bad-spec corpus: every malformed spec is refused, located, and leaves nothing behind.

Each file in ``tests/bad_specs/`` starts with ``# expect: LINE: TEXT`` (the line the error must
point at, and a fragment of its message), optionally followed by ``# args: ...`` (extra command
line arguments, e.g. ``--set n=wide``). Files that cannot hold a comment (empty, not UTF-8) have
their expectations in ``UNCOMMENTED`` below. Most cases run in-process for speed; a few run as
real subprocesses to prove that no traceback reaches the user.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archspec.cli import main

CORPUS = Path(__file__).parent / "bad_specs"
UNCOMMENTED = {
    "empty.yaml": (1, "empty spec"),
    "binary_garbage.yaml": (1, "not UTF-8 text"),
    "utf16.yaml": (1, "not UTF-8 text"),
}
EXPECT_RE = re.compile(r"^# expect: (\d+): (.+)$")
SAVE_SUFFIX = {"keras": ".keras", "torch": ".pt"}


@dataclass(frozen=True)
class Case:
    path: Path
    line: int
    message: str
    args: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.path.stem


def read_case(path: Path) -> Case:
    """The expectation written at the top of a corpus file."""
    if path.name in UNCOMMENTED:
        return Case(path, *UNCOMMENTED[path.name])
    first, second, *_ = [*path.read_bytes().decode("utf-8", "replace").split("\n", 2), ""]
    match = EXPECT_RE.match(first)
    if not match:
        raise ValueError(f"{path.name}: first line must be '# expect: LINE: TEXT'")
    args = shlex.split(second.removeprefix("# args:")) if second.startswith("# args:") else []
    return Case(path, int(match.group(1)), match.group(2), tuple(args))


CASES = [read_case(path) for path in sorted(CORPUS.glob("*.yaml"))]


def assert_refused(case: Case, rc: int, out: str, err: str) -> str:
    """Exit 2, nothing on stdout, one ``FILE:LINE:COL: error: MESSAGE`` line per problem, and
    one of them at the expected line with the expected text. Returns the first error line."""
    assert rc == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines, "no error printed"
    pattern = re.compile(rf"^{re.escape(str(case.path))}:(\d+):(\d+): error: \S.*$")
    for line in lines:
        assert pattern.match(line), f"not a located error line: {line!r}"
    at_line = [line for line in lines if int(pattern.match(line).group(1)) == case.line]  # type: ignore[union-attr]
    assert any(case.message in line for line in at_line), (
        f"expected line {case.line} to say {case.message!r}; got:\n{err}"
    )
    return lines[0]


def test_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 60
    families = {case.path.stem.split("_")[0] for case in CASES}
    assert {"yaml", "top", "type", "field", "shape", "name", "block", "set"} <= families


@pytest.mark.parametrize("case", CASES, ids=str)
def test_check_refuses(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", str(case.path), *case.args])
    captured = capsys.readouterr()
    assert_refused(case, rc, captured.out, captured.err)


@pytest.mark.parametrize("backend", ["keras", "torch"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_build_refuses_and_writes_nothing(
    case: Case, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", str(case.path), *case.args])
    check_first = capsys.readouterr().err.splitlines()[0]
    output, saved = tmp_path / "model.py", tmp_path / f"model{SAVE_SUFFIX[backend]}"
    argv = ["build", str(case.path), "--backend", backend, "-o", str(output), "--save", str(saved)]
    rc = main([*argv, *case.args])
    captured = capsys.readouterr()
    assert assert_refused(case, rc, captured.out, captured.err) == check_first
    assert list(tmp_path.iterdir()) == []  # no output, no half-written temporary file


SUBPROCESS_CASES = [
    "yaml_python_tag",
    "yaml_alias_bomb",
    "yaml_deep_nesting",
    "binary_garbage",
    "op_unknown",
    "shape_kernel_too_big",
    "set_wrong_type",
]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_real_process_prints_no_traceback(name: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.path.stem == name)
    output = tmp_path / "model.py"
    command = "check" if name != "op_unknown" else "build"
    argv = [sys.executable, "-m", "archspec", command, str(case.path), *case.args]
    if command == "build":
        argv += ["--backend", "torch", "-o", str(output)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert_refused(case, result.returncode, result.stdout, result.stderr)
    assert not output.exists()
