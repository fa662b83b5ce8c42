"""What a cache backend is, and how one is found: entry points in ``credchain.cache_backends``.

A backend stores opaque bytes under opaque names for a time. It never sees an asset name, a
secret id, a URL or a plain value: ``credchain.cache.Cache`` names entries by keyed hash and
seals values (authenticated encryption) before a backend is called. A backend only has to:

- ``get``/``set``/``delete`` a value with a time to live (seconds, a float);
- ``add`` a value only if the name is free (a lock), and ``delete_if`` it still holds a value
  (the lock's release): both atomic for every process that shares the backend;
- ``clear`` every name under a prefix (``credchain cache clear``);
- raise ``CacheUnavailable`` when it cannot answer (down, slow, refused): the caller goes on
  without it and never waits longer than the ``timeout`` it was opened with.

``shared`` says whether other processes see the entries (file: the host's; redis: the
cluster's). A third-party backend is a ``CacheBackend`` subclass registered under the
entry-point group; its ``Settings`` model validates the rest of the ``[cache]`` table.
``credchain.testing.cache`` has a ready test suite for backends.
"""

from __future__ import annotations

import importlib.metadata
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from credchain.errors import ConfigError

__all__ = [
    "BACKEND_GROUP",
    "BackendSettings",
    "CacheBackend",
    "CacheUnavailable",
    "backend_class",
    "installed_backends",
]

BACKEND_GROUP = "credchain.cache_backends"


class CacheUnavailable(Exception):
    """The backend cannot answer now; its message names no secret and no password."""


class BackendSettings(BaseModel):
    """Base of a backend's own settings (the ``[cache]`` keys credchain does not read)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CacheBackend(ABC):
    """Stores sealed values under hashed names; see the module docstring. Thread-safe."""

    #: whether other processes see the entries (only a shared backend is used for tokens and
    #: answers: a process already keeps its own in memory)
    shared: ClassVar[bool] = True
    Settings: ClassVar[type[BackendSettings]] = BackendSettings

    @classmethod
    @abstractmethod
    def open(cls, settings: BackendSettings, *, home: Path, timeout: float) -> CacheBackend:
        """The backend for ``settings``; connects lazily (a backend down at start is fine)."""

    @abstractmethod
    def get(self, name: str) -> bytes | None: ...

    @abstractmethod
    def set(self, name: str, value: bytes, ttl: float) -> None: ...

    @abstractmethod
    def delete(self, name: str) -> None: ...

    @abstractmethod
    def add(self, name: str, value: bytes, ttl: float) -> bool:
        """Store ``value`` only if ``name`` holds nothing; whether it was stored."""

    @abstractmethod
    def delete_if(self, name: str, value: bytes) -> bool:
        """Delete ``name`` only if it still holds ``value``; whether it was deleted."""

    @abstractmethod
    def clear(self, prefix: str) -> int:
        """Delete every name starting with ``prefix``; how many there were."""

    @abstractmethod
    def describe(self) -> str:
        """Where the backend is, for logs: never a password."""

    def close(self) -> None:  # noqa: B027 (optional: a backend may hold nothing to release)
        """Release connections."""


def installed_backends() -> dict[str, importlib.metadata.EntryPoint]:
    """The backends installed, by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=BACKEND_GROUP)}


def backend_class(name: str, *, path: str | None = None) -> type[CacheBackend]:
    """The backend class called ``name``; a ``ConfigError`` on ``cache.backend`` if it is not
    installed or does not load."""
    found = installed_backends()
    ep = found.get(name)
    if ep is None:
        raise ConfigError(
            f"unknown cache backend {name!r} (installed: {', '.join(sorted(found)) or 'none'})",
            path=path,
            key="cache.backend",
        )
    try:
        loaded = ep.load()
    except Exception as exc:  # a third party's import error must name it, not crash
        raise ConfigError(
            f"the cache backend {name!r} ({ep.value}) does not load: {type(exc).__name__}: {exc}",
            path=path,
            key="cache.backend",
        ) from None
    if not (isinstance(loaded, type) and issubclass(loaded, CacheBackend)):
        raise ConfigError(
            f"the cache backend {name!r} ({ep.value}) is not a CacheBackend",
            path=path,
            key="cache.backend",
        )
    return loaded
