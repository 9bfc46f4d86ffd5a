"""Atomic writes leave files with ordinary permissions."""

from __future__ import annotations

import os
import stat

from archspec.util.files import write_text


def test_new_files_get_the_umask_mode(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "out.py"
        write_text(target, "x = 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_text() == "x = 1\n"


def test_replacing_keeps_the_old_mode(tmp_path) -> None:
    target = tmp_path / "run.sh"
    target.write_text("old\n")
    target.chmod(0o750)
    write_text(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o750
    assert target.read_text() == "new\n"
