"""Atomic output: a file appears whole or not at all, and a failure never clobbers the old one.

Only regular files are ever replaced: a FIFO, a device (``/dev/null``) or a directory named as
an output is refused, never swapped for a regular file. A symbolic link is written through (the
file it points to is replaced, the link stays).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


class UnwritableError(OSError):
    """An output path that must not or cannot be written."""


def writable_target(target: str | Path, probe: bool = True) -> Path:
    """The real path to write for ``target``; raises UnwritableError if it is not a regular
    file or a new name in an existing, writable directory. Probes by creating (and removing) a
    temporary file there, which is what writing will do; this holds for root and read-only
    mounts alike, unlike permission bits."""
    path = Path(os.path.realpath(target))
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise UnwritableError(f"cannot write {target}: {err.strerror}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UnwritableError(f"{target} is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        raise UnwritableError(
            f"refusing to write {target}: not a regular file (a device, FIFO or socket)"
        )
    if not path.parent.is_dir():
        raise UnwritableError(f"cannot write {target}: no such directory {Path(target).parent}")
    if not probe:
        return path
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as err:
        raise UnwritableError(f"cannot write {target}: {err.strerror}") from None
    os.close(fd)
    os.unlink(probe)
    return path


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename."""
    target = writable_target(target)
    fd, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent
    )
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        # NOTE: mkstemp creates 0600 files; give the result the mode a plain open() would
        # (or keep the mode of the file it replaces).
        os.chmod(temp, _mode_for(target))
        writable_target(target, probe=False)  # still no device: it may have changed meanwhile
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
