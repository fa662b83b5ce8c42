"""Every first-party cache backend passes the backend contract (credchain.testing.cache)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from credchain.cache import backend_class, installed_backends
from credchain.cache.backends.file import FileBackend
from credchain.cache.backends.memory import MemoryBackend
from credchain.cache.backends.redis import RedisBackend, RedisSettings
from credchain.testing.cache import BackendContract
from credchain.testing.redis import RedisServer


class TestMemoryBackend(BackendContract):
    @pytest.fixture
    def backend(self) -> MemoryBackend:
        return MemoryBackend()


class TestFileBackend(BackendContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> FileBackend:
        return FileBackend(tmp_path / "shared")

    def test_entries_are_private_files(self, backend: FileBackend) -> None:
        backend.set("credchain-test:a", b"x", 60)
        (entry,) = backend.directory.glob("*.entry")
        assert entry.stat().st_mode & 0o777 == 0o600
        assert backend.directory.stat().st_mode & 0o777 == 0o700


class TestRedisBackend(BackendContract):
    @pytest.fixture
    def backend(self, redis_server: RedisServer, tmp_path: Path) -> Iterator[RedisBackend]:
        settings = RedisSettings(url=redis_server.url)
        backend = RedisBackend.open(settings, home=tmp_path, timeout=2.0)
        yield backend
        backend.close()

    def test_describe_never_shows_the_password(self, tmp_path: Path) -> None:
        settings = RedisSettings(url="redis://user:hunter2-Zq@cache.example.com:6380/1")
        backend = RedisBackend.open(settings, home=tmp_path, timeout=0.1)
        assert backend.describe() == "redis://cache.example.com:6380/1"
        assert "hunter2" not in repr(settings)


def test_the_first_party_backends_are_entry_points() -> None:
    assert {"memory", "file", "redis"} <= set(installed_backends())
    assert backend_class("redis") is RedisBackend
