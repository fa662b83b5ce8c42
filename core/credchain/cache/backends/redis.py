"""``backend = "redis"``: entries in Redis (redis-py), shared by every node of a cluster.

```toml
[cache]
backend = "redis"
url = "rediss://cache.example.com:6380/0"   # redis:// plain, rediss:// TLS, unix:///path
password = "enc:gAAAA..."                    # or password_env; or in url_env's URL
username = "credchain"                       # a Redis 6 ACL user (optional)
ca_file = "/etc/credchain/redis-ca.pem"      # rediss://: the CA that signed Redis's certificate
```

Every command is bounded by the cache's ``timeout`` (connect and read) and is never retried by
redis-py: credchain decides what a failure means (``CacheUnavailable``). Locks are ``SET NX PX``
and released by a compare-and-delete script, so a lease that lapsed and was taken by another
node is never deleted by its old holder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from pydantic import SecretStr, field_validator
from redis.backoff import NoBackoff
from redis.retry import Retry

from credchain.cache.backend import BackendSettings, CacheBackend, CacheUnavailable

__all__ = ["RedisBackend", "RedisSettings"]

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_SCHEMES = ("redis", "rediss", "unix")


class RedisSettings(BackendSettings):
    url: str = "redis://127.0.0.1:6379/0"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: str | None = None
    max_connections: int = 64

    def __repr__(self) -> str:
        return f"RedisSettings(url={_where(self.url)!r})"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (a port that is not a number raises here)
        except ValueError:
            raise ValueError("not a URL (redis://HOST:PORT/DB or rediss://...)") from None
        if parts.scheme not in _SCHEMES:
            raise ValueError("must start with redis://, rediss:// (TLS) or unix://")
        if parts.scheme != "unix" and not parts.hostname:
            raise ValueError("names no host (redis://HOST:PORT/DB)")
        return value

    @field_validator("max_connections")
    @classmethod
    def _connections(cls, value: int) -> int:
        if not 1 <= value <= 10_000:
            raise ValueError("must be between 1 and 10000")
        return value


def _where(url: str) -> str:
    """The URL without its user and password, for logs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RedisBackend(CacheBackend):
    """See the module docstring."""

    shared = True
    Settings = RedisSettings

    def __init__(self, client: redis.Redis, where: str) -> None:
        self._client = client
        self._where = where
        self._release = client.register_script(_RELEASE)

    @classmethod
    def open(cls, settings: BackendSettings, *, home: Path, timeout: float) -> RedisBackend:
        assert isinstance(settings, RedisSettings)
        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
            "max_connections": settings.max_connections,
        }
        if settings.username:
            options["username"] = settings.username
        if settings.password is not None:
            options["password"] = settings.password.get_secret_value()
        if settings.ca_file:
            options["ssl_ca_certs"] = str(home / Path(settings.ca_file).expanduser())
        client = redis.Redis.from_url(settings.url, **options)
        return cls(client, _where(settings.url))

    def _run(self, command: Callable[..., Any], *args: Any, **options: Any) -> Any:
        try:
            return command(*args, **options)
        except redis.RedisError as exc:
            raise CacheUnavailable(_reason(exc)) from None

    def get(self, name: str) -> bytes | None:
        value = self._run(self._client.get, name)
        return None if value is None else bytes(value)

    def set(self, name: str, value: bytes, ttl: float) -> None:
        self._run(self._client.set, name, value, px=_ms(ttl))

    def delete(self, name: str) -> None:
        self._run(self._client.delete, name)

    def add(self, name: str, value: bytes, ttl: float) -> bool:
        return bool(self._run(self._client.set, name, value, nx=True, px=_ms(ttl)))

    def delete_if(self, name: str, value: bytes) -> bool:
        return bool(self._run(self._release, keys=[name], args=[value]))

    def clear(self, prefix: str) -> int:
        pattern = "".join("\\" + ch if ch in "*?[]\\" else ch for ch in prefix) + "*"
        count = 0
        try:
            batch: list[bytes] = []
            for name in self._client.scan_iter(match=pattern, count=500):
                batch.append(name)
                if len(batch) == 500:
                    count += int(self._client.delete(*batch))
                    batch = []
            if batch:
                count += int(self._client.delete(*batch))
        except redis.RedisError as exc:
            raise CacheUnavailable(_reason(exc)) from None
        return count

    def describe(self) -> str:
        return self._where

    def close(self) -> None:
        self._client.close()


def _ms(ttl: float) -> int:
    return max(1, round(ttl * 1000))


def _reason(exc: redis.RedisError) -> str:
    """What went wrong, in a line: redis-py's messages name the host, never the password."""
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
