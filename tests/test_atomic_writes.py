"""Outputs appear whole or not at all, and a failed build never clobbers an existing file.

``archspec build`` writes ``-o`` and ``--save`` through ``archspec.util.files.atomic_path`` (a temporary
file beside the target, renamed into place once everything has succeeded). A fake backend lets
each failure be injected exactly where it would happen; the real backends check the success path.
"""

from __future__ import annotations

import ast
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import archspec.api
import archspec.backends
from archspec.backends import BackendError, get_backend
from archspec.cli import main
from archspec.util import files

SPEC = "archspec: 1\nname: tiny\ninput: {shape: [4]}\nlayers:\n  - dense: {units: 3}\n"
OLD = b"old contents that must survive\n"


def fake_backend(fail: str | None = None) -> SimpleNamespace:
    """A backend whose step ``fail`` raises; ``save`` writes half a file before failing."""

    def step(name: str, result: Any) -> Any:
        if fail == name:
            raise (BackendError if name == "build" else RuntimeError)(f"{name} failed")
        return result

    def save(model: Any, path: Path) -> None:
        Path(path).write_bytes(b"half a model")
        if fail == "save":
            raise OSError("disk full")
        Path(path).write_bytes(b"a whole model")

    return SimpleNamespace(
        generate=lambda report: step("generate", "def build_model():\n    return None\n"),
        build=lambda report: step("build", report),
        save=save,
        count_params=lambda report: (report.total_params, report.trainable_params),
    )


@pytest.fixture
def setup(tmp_path: Path, monkeypatch):
    """(spec path, output path, save path, install(fail)) with old files in place."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output, saved = out_dir / "model.py", out_dir / "model.pt"
    output.write_bytes(OLD)
    saved.write_bytes(OLD)

    def install(fail: str | None) -> None:
        backend = fake_backend(fail)
        monkeypatch.setattr(archspec.backends, "get_backend", lambda name: backend)
        monkeypatch.setattr(archspec.api, "get_backend", lambda name: backend)

    return spec, output, saved, install


def build(spec: Path, output: Path, saved: Path, *extra: str) -> int:
    argv = ["build", str(spec), "--backend", "torch", "-o", str(output), "--save", str(saved)]
    return main([*argv, *extra])


@pytest.mark.parametrize("fail", ["generate", "build", "save"])
def test_a_failure_leaves_both_old_files_untouched(setup, fail: str, capsys) -> None:
    spec, output, saved, install = setup
    install(fail)
    assert build(spec, output, saved) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert ("disk full" if fail == "save" else f"{fail} failed") in err
    assert output.read_bytes() == OLD
    assert saved.read_bytes() == OLD
    assert sorted(p.name for p in output.parent.iterdir()) == ["model.pt", "model.py"]


def test_a_bad_spec_leaves_old_files_untouched(setup, capsys) -> None:
    spec, output, saved, install = setup
    install(None)
    spec.write_text(SPEC.replace("units: 3", "units: 0"), encoding="utf-8")
    assert build(spec, output, saved) == 2
    assert ":5:" in capsys.readouterr().err
    assert output.read_bytes() == OLD and saved.read_bytes() == OLD


def test_success_replaces_both_whole(setup, capsys) -> None:
    spec, output, saved, install = setup
    install(None)
    assert build(spec, output, saved) == 0
    assert capsys.readouterr().out == ""  # the source went to the file, not stdout
    assert output.read_text(encoding="utf-8").startswith("def build_model():")
    assert saved.read_bytes() == b"a whole model"
    assert sorted(p.name for p in output.parent.iterdir()) == ["model.pt", "model.py"]


@pytest.mark.parametrize(
    ("output", "saved", "message"),
    [
        ("missing/model.py", "model.pt", "no such directory"),
        ("model.py", "missing/model.pt", "no such directory"),
        ("model.py", "model.py", "must name different files"),
        (".", "model.pt", "is a directory"),
    ],
)
def test_unwritable_targets_are_refused_before_building(
    setup, monkeypatch, output: str, saved: str, message: str, capsys
) -> None:
    spec, real_output, _, install = setup
    install("build")  # would fail loudly if the build were reached
    monkeypatch.chdir(real_output.parent)
    assert build(spec, Path(output), Path(saved)) == 2
    err = capsys.readouterr().err
    assert err.startswith("archspec: error: ") and message in err
    assert "build failed" not in err


def test_atomic_path_cleans_up_after_a_failing_writer(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_bytes(OLD)

    def writer(path: Path) -> None:
        path.write_bytes(b"partial")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        files.write_with(target, writer)
    assert target.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]
    files.write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


@pytest.mark.parametrize(("backend", "suffix"), [("torch", ".pt"), ("keras", ".keras")])
def test_real_backends_write_complete_files(tmp_path: Path, backend: str, suffix: str) -> None:
    module = get_backend(backend)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    output, saved = tmp_path / "model.py", tmp_path / f"model{suffix}"
    output.write_bytes(OLD)
    saved.write_bytes(OLD)
    argv = ["build", str(spec), "--backend", backend, "-o", str(output), "--save", str(saved)]
    assert main(argv) == 0
    ast.parse(output.read_text(encoding="utf-8"))
    if backend == "torch":
        import torch

        state = torch.load(saved, weights_only=True)
        assert sorted(state) == ["dense.bias", "dense.weight"]
    else:
        model = module.load(saved)
        assert model.count_params() == 4 * 3 + 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["spec.yaml", output.name, saved.name]
    )


# --- Nothing is written that should not be (issue 12) ---------------------------------------


@pytest.mark.parametrize("option", ["-o", "--save"])
def test_the_spec_itself_is_never_an_output(setup, option: str, capsys) -> None:
    spec, _, _, install = setup
    install("build")  # would fail loudly if the build were reached
    spec_copy = spec.with_suffix(".py" if option == "-o" else ".pt")
    spec_copy.symlink_to(spec)  # the right extension, the same file
    argv = ["build", str(spec), "--backend", "torch", option, str(spec_copy)]
    assert main(argv) == 2
    assert "refusing to overwrite the input" in capsys.readouterr().err
    assert spec.read_text(encoding="utf-8") == SPEC


def test_devices_and_fifos_are_never_replaced(setup, tmp_path: Path, capsys) -> None:
    spec, _, _, install = setup
    install("build")
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/null")):
        before = target.lstat()
        assert main(["build", str(spec), "--backend", "torch", "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert "not a regular file" in err or "writes source files as .py" in err
        after = target.lstat()
        assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    with pytest.raises(files.UnwritableError, match="not a regular file"):
        files.write_text("/dev/null", "x")


@pytest.mark.parametrize("target", ["/proc/archspec_model.py", "/sys/archspec_model.py"])
def test_an_unwritable_directory_is_refused_before_building(setup, target: str, capsys) -> None:
    spec, _, _, install = setup
    install("build")  # reaching the build would print "build failed"
    assert main(["build", str(spec), "--backend", "torch", "-o", target]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"archspec: error: cannot write {target}")
    assert "build failed" not in err


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_bytes(OLD)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    files.write_text(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"


@pytest.mark.parametrize(
    ("backend", "option", "name", "message"),
    [
        ("torch", "--save", "x.keras", "writes model files as .pt or .pth, not .keras"),
        ("keras", "--save", "x.h5", "writes model files as .keras, not .h5"),
        ("onnx", "-o", "z.py", "writes model files as .onnx, not .py"),
        ("torch", "-o", "model.txt", "writes source files as .py, not .txt"),
    ],
)
def test_one_rule_for_file_extensions(
    tmp_path: Path, backend: str, option: str, name: str, message: str, capsys
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    assert main(["build", str(spec), "--backend", backend, option, str(tmp_path / name)]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


SLOW_SAVE = """\
import sys, time
from pathlib import Path
import archspec.backends.torch as backend

def save(model, path):
    Path(path).write_bytes(b"half a model")
    print("saving", flush=True)
    time.sleep(60)

backend.save = save
from archspec.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    saved = tmp_path / "model.pt"
    saved.write_bytes(OLD)
    argv = [sys.executable, "-c", SLOW_SAVE, "build", str(spec), "--backend", "torch"]
    process = subprocess.Popen(
        [*argv, "--save", str(saved), "-o", str(tmp_path / "model.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "saving"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "spec.yaml"]
    assert saved.read_bytes() == OLD


def test_build_says_what_it_wrote_and_what_to_try(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    output, saved = tmp_path / "model.py", tmp_path / "model.pt"
    assert (
        main(["build", str(spec), "--backend", "torch", "-o", str(output), "--save", str(saved)])
        == 0
    )
    err = capsys.readouterr().err
    assert f"wrote {output} (source), {saved} (model)" in err
    next_line = next(line for line in err.splitlines() if line.startswith("next: "))
    command = shlex.split(next_line.removeprefix("next: "))
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "dense.weight" in result.stdout
