"""The ``[cache]`` table: which backend, and how long to wait for it.

```toml
[cache]
backend = "redis"             # "memory" (default), "file", "redis", or a third party's
url = "redis://127.0.0.1:6379/0"
timeout = 0.25                # seconds one backend call may take before it counts as down
lock_wait = 10.0              # seconds to wait for another node's grant or answer
lock_ttl = 30.0               # seconds a node's lock lasts if it dies holding it
retry_after = 5.0             # seconds between tries of a backend that is down
answers = true                # share answers too (false: tokens only)
prefix = "credchain:"         # what every entry's name starts with
namespace = "scan-cluster-1"  # answers are shared by configs with the same namespace
```

Keys credchain does not read belong to the backend (its ``Settings`` model). The namespace
defaults to a digest of the chain and its entries' settings, so nodes with the same config
share answers and different configs never do.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credchain.cache._sealing import Sealer
from credchain.cache._shared import Cache
from credchain.cache.backend import backend_class
from credchain.config import Config, settings_error
from credchain.errors import ConfigError, SecretStoreError
from credchain.secretstore import SecretStore

__all__ = ["CacheSettings", "chain_namespace", "open_cache"]

log = logging.getLogger("credchain.cache")


class CacheSettings(BaseModel):
    """The keys of ``[cache]`` that credchain reads itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: str = "memory"
    timeout: float = Field(default=0.25, gt=0, le=30, allow_inf_nan=False)
    lock_wait: float = Field(default=10.0, ge=0, le=300, allow_inf_nan=False)
    lock_ttl: float = Field(default=30.0, gt=0, le=3600, allow_inf_nan=False)
    retry_after: float = Field(default=5.0, gt=0, le=3600, allow_inf_nan=False)
    answers: bool = True
    prefix: str = Field(default="credchain:", pattern=r"^[A-Za-z0-9:_.-]{0,64}$")
    namespace: str | None = Field(default=None, min_length=1, max_length=256)


def chain_namespace(config: Config) -> bytes:
    """What answers are shared under: ``namespace``, else a digest of the chain's settings."""
    given = config.cache.get("namespace")
    if isinstance(given, str) and given:
        return b"ns:" + given.encode()
    entries = {
        name: {
            "type": config.entry(name).type,
            "on_error": config.entry(name).on_error,
            "settings": config.entry(name).settings,
        }
        for name in config.chain
    }
    text = json.dumps({"chain": config.chain, "entries": entries}, sort_keys=True, default=str)
    return b"chain:" + hashlib.sha256(text.encode()).digest()


def open_cache(config: Config) -> Cache:
    """The cache ``config`` asks for; a ``ConfigError`` naming the file and key if it is wrong."""
    where = str(config.path) if config.path is not None else None
    table: dict[str, Any] = dict(config.cache)
    own = {key: table.pop(key) for key in list(table) if key in CacheSettings.model_fields}
    try:
        settings = CacheSettings.model_validate(own)
    except ValidationError as exc:
        raise settings_error(exc, key="cache", path=where) from None
    cls = backend_class(settings.backend, path=where)
    try:
        backend_settings = cls.Settings.model_validate(table)
    except ValidationError as exc:
        raise settings_error(exc, key="cache", path=where) from None
    if "url" in config.cache_plain_keys and _has_password(table.get("url")):
        log.warning(
            "%s: cache.url holds a password in plain text: use url_env, or password as an "
            "enc: value ('credchain' encrypts it with the home's key)",
            where or "the configuration",
        )
    store = SecretStore(config.home)

    def keys() -> tuple[bytes, bytes]:
        return store.derive("cache names v1"), store.derive("cache values v1")

    sealer = Sealer(keys)
    if cls.shared:  # a bad key file is a config error now, not a surprise at the first lookup
        try:
            sealer.name("check", b"")
        except (OSError, SecretStoreError) as exc:  # unreadable, a directory, not a key
            raise ConfigError(
                f"cannot use the home's key for the cache: {exc}", path=where, key="cache"
            ) from None
    backend = cls.open(backend_settings, home=config.home, timeout=settings.timeout)
    return Cache(
        backend,
        sealer,
        prefix=settings.prefix,
        lock_wait=settings.lock_wait,
        lock_ttl=settings.lock_ttl,
        retry_after=settings.retry_after,
        answers=settings.answers,
    )


def _has_password(url: object) -> bool:
    if not isinstance(url, str) or "@" not in url:
        return False
    userinfo = url.split("://", 1)[-1].split("@", 1)[0]
    return ":" in userinfo
