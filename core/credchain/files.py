"""Private files, written atomically: a reader sees the old file or the new one, never half.

Files the admin names are read with a size cap, and only if they are regular files.
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from credchain.errors import ConfigError
from credchain.home import LOCK_FILE

__all__ = [
    "atomic_open",
    "atomic_write",
    "create_exclusive",
    "ensure_private_dir",
    "home_lock",
    "is_shared",
    "read_text_capped",
]


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
def home_lock(home: Path) -> Iterator[None]:
    """Hold the home's exclusive lock (``.lock``, flock) for the block; other processes queue.

    Not re-entrant: taking it again in the same process, even from the same thread, blocks.
    """
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: Path, *, mode: int = 0o600) -> Iterator[TextIO]:
    """A UTF-8 text handle on a temporary file beside ``path``, with ``mode``, written as it goes.

    On a clean exit it is fsynced and renamed over ``path``; on an exception it is removed and
    ``path`` is left as it was.
    """
    fd, tmp = _temporary(path, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and rename, with ``mode``."""
    with atomic_open(path, mode=mode) as handle:
        handle.buffer.write(data.encode() if isinstance(data, str) else data)


def create_exclusive(path: Path, data: bytes | str, *, mode: int = 0o600) -> bool:
    """Create ``path`` holding ``data`` unless it exists; ``False`` when it already did.

    The file is written and fsynced beside ``path``, then hard-linked into place: it never
    exists half-written, and a file already there is never replaced.
    """
    fd, tmp = _temporary(path, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_directory(path.parent)
    return True


def _temporary(path: Path, mode: int) -> tuple[int, Path]:
    """A new temporary file beside ``path`` with ``mode``: its descriptor and path."""
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, Path(tmp)


def _fsync_directory(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def is_shared(path: Path) -> bool:
    """True when group or others may read ``path``."""
    return bool(path.stat().st_mode & 0o044)


def read_text_capped(path: Path, limit: int, what: str) -> str:
    """Read ``path`` as UTF-8 text like ``Path.read_text``, but at most ``limit`` bytes of it.

    A FIFO, a device (``/dev/zero``) or a directory is refused before anything is read (opened
    non-blocking, so a FIFO cannot hang the open), and so is a file over ``limit``: each with a
    ``ConfigError`` naming ``path`` and ``what`` it is. ``OSError`` and ``UnicodeDecodeError``
    pass through.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{what} is not a regular file", path=str(path))
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ConfigError(f"{what} is larger than {_size(limit)}", path=str(path))
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _size(count: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"
