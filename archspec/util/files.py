"""Atomic output: a file appears whole or not at all, and a failure never clobbers the old one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename."""
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=directory)
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        # NOTE: mkstemp creates 0600 files; give the result the mode a plain open() would
        # (or keep the mode of the file it replaces).
        os.chmod(temp, _mode_for(target))
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(target: str | Path, text: str) -> None:
    """Write text atomically."""
    with atomic_path(target) as temp:
        temp.write_text(text, encoding="utf-8")


def write_with(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Let ``writer`` produce the file at a temporary path, then move it into place."""
    with atomic_path(target) as temp:
        writer(temp)
