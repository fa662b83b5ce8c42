"""``backend = "file"``: entries in the home (``HOME/cache/shared/``), for the host's processes.

One file per entry, named by its hashed name, mode 0600 in a 0700 directory, written atomically:
its expiry (wall-clock seconds) and its sealed value. ``add`` and ``delete_if`` hold the
directory's ``flock`` for the check and the write, so two processes of the host never both take
a lock. An entry that cannot be read (a directory, too large, garbage) is a miss; a directory
that cannot be written makes the backend unavailable, which credchain survives.
"""

from __future__ import annotations

import fcntl
import os
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from credchain.cache.backend import BackendSettings, CacheBackend, CacheUnavailable
from credchain.files import atomic_write, ensure_private_dir
from credchain.home import SHARED_CACHE_DIR

__all__ = ["FileBackend", "FileSettings"]

_SUFFIX = ".entry"
_HEADER = struct.Struct(">d")
#: a sealed answer or token is a few KiB: a bigger file is not ours
_MAX_ENTRY = 256 * 1024


class FileSettings(BackendSettings):
    #: the directory, in the home unless absolute
    directory: str = str(SHARED_CACHE_DIR)


class FileBackend(CacheBackend):
    """See the module docstring."""

    shared = True
    Settings = FileSettings

    def __init__(self, directory: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self._clock = clock

    @classmethod
    def open(cls, settings: BackendSettings, *, home: Path, timeout: float) -> FileBackend:
        assert isinstance(settings, FileSettings)
        return cls(home / Path(settings.directory).expanduser())

    def _path(self, name: str) -> Path:
        if not name or not all(ch.isalnum() or ch in ":_.-" for ch in name):
            raise ValueError("a cache entry name is letters, digits and ':_.-'")
        return self.directory / f"{name.replace(':', '_')}{_SUFFIX}"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            ensure_private_dir(self.directory)
            fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise CacheUnavailable(f"cannot use {self.directory}: {type(exc).__name__}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self, path: Path) -> bytes | None:
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_ENTRY + 1)
        except FileNotFoundError:
            return None
        except OSError:
            return None
        if len(data) > _MAX_ENTRY or len(data) < _HEADER.size:
            return None
        (expires,) = _HEADER.unpack_from(data)
        if not self._clock() < expires:  # a NaN is expired too
            path.unlink(missing_ok=True)
            return None
        return data[_HEADER.size :]

    def _write(self, path: Path, value: bytes, ttl: float) -> None:
        try:
            ensure_private_dir(self.directory)
            atomic_write(path, _HEADER.pack(self._clock() + ttl) + value)
        except OSError as exc:
            raise CacheUnavailable(
                f"cannot write in {self.directory}: {type(exc).__name__}"
            ) from None

    def get(self, name: str) -> bytes | None:
        return self._read(self._path(name))

    def set(self, name: str, value: bytes, ttl: float) -> None:
        self._write(self._path(name), value, ttl)

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink(missing_ok=True)
        except OSError as exc:
            raise CacheUnavailable(
                f"cannot delete in {self.directory}: {type(exc).__name__}"
            ) from None

    def add(self, name: str, value: bytes, ttl: float) -> bool:
        path = self._path(name)
        with self._locked():
            if self._read(path) is not None:
                return False
            self._write(path, value, ttl)
            return True

    def delete_if(self, name: str, value: bytes) -> bool:
        path = self._path(name)
        with self._locked():
            if self._read(path) != value:
                return False
            path.unlink(missing_ok=True)
            return True

    def clear(self, prefix: str) -> int:
        if not self.directory.is_dir():
            return 0
        count = 0
        for path in self.directory.glob(f"{prefix.replace(':', '_')}*{_SUFFIX}"):
            path.unlink(missing_ok=True)
            count += 1
        return count

    def describe(self) -> str:
        return f"file:{self.directory}"
