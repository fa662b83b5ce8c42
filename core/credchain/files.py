"""Private files, written atomically: a reader sees the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

__all__ = ["atomic_open", "atomic_write", "ensure_private_dir", "is_shared"]


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700; tighten ``path`` if we own it."""
    missing = []
    for parent in (path, *path.parents):
        if parent.exists():
            break
        missing.append(parent)
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        path.chmod(0o700)
    return path


@contextmanager
def atomic_open(path: Path, *, mode: int = 0o600) -> Iterator[TextIO]:
    """A UTF-8 text handle on a temporary file beside ``path``, with ``mode``, written as it goes.

    On a clean exit it is fsynced and renamed over ``path``; on an exception it is removed and
    ``path`` is left as it was.
    """
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and rename, with ``mode``."""
    with atomic_open(path, mode=mode) as handle:
        handle.buffer.write(data.encode() if isinstance(data, str) else data)


def is_shared(path: Path) -> bool:
    """True when group or others may read ``path``."""
    return bool(path.stat().st_mode & 0o044)
