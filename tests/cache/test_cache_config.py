"""The ``[cache]`` table: a bad setting is one ConfigError naming the file and the key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credchain.cache import open_cache
from credchain.config import load_config, parse_config
from credchain.errors import ConfigError
from credchain.secretstore import SecretStore

Write = Callable[[dict[str, object]], Path]


def test_no_cache_table_is_the_memory_backend_and_touches_no_key(write_config: Write) -> None:
    path = write_config({"chain": []})
    cache = open_cache(load_config(path))
    assert not cache.shared and not (path.parent / "secret.key").exists()


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"backend": "memcached"}, "cache.backend", "unknown cache backend 'memcached'"),
        ({"backend": "redis", "url": "http://x"}, "cache.url", "redis://"),
        ({"backend": "redis", "url": "redis://:6379"}, "cache.url", "no host"),
        ({"backend": "redis", "colour": "red"}, "cache.colour", "unknown setting"),
        ({"timeout": 0}, "cache.timeout", "greater than 0"),
        ({"lock_wait": "soon"}, "cache.lock_wait", "number"),
        ({"prefix": "has space"}, "cache.prefix", "pattern"),
    ],
)
def test_a_bad_setting_names_the_file_and_key(
    write_config: Write, table: dict[str, object], key: str, words: str
) -> None:
    path = write_config({"chain": [], "cache": table})
    with pytest.raises(ConfigError) as caught:
        open_cache(load_config(path))
    assert caught.value.key == key and words in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_cache_that_is_not_a_table_is_refused(write_config: Write) -> None:
    with pytest.raises(ConfigError, match="must be a table") as caught:
        load_config(write_config({"chain": [], "cache": "redis"}))
    assert caught.value.key == "cache"


def test_the_password_may_be_encrypted_or_from_the_environment(
    write_config: Write, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = SecretStore(home).encrypt("hunter2-Zq")
    path = write_config({"cache": {"backend": "redis", "password": sealed}})
    assert load_config(path).cache["password"] == "hunter2-Zq"
    monkeypatch.setenv("REDIS_URL", "rediss://:hunter2-Zq@cache.example.com:6380/0")
    path = write_config({"cache": {"backend": "redis", "url_env": "REDIS_URL"}})
    cache = open_cache(load_config(path))
    assert cache.backend.describe() == "rediss://cache.example.com:6380/0"
    assert "hunter2" not in repr(cache) and "hunter2" not in repr(load_config(path))


def test_a_password_written_plain_in_the_url_is_warned_about(
    write_config: Write, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_config({"cache": {"backend": "redis", "url": "redis://:hunter2-Zq@h:6379/0"}})
    with caplog.at_level(logging.WARNING):
        open_cache(load_config(path))
    assert "plain text" in caplog.text and "hunter2" not in caplog.text


@settings(max_examples=200, deadline=None)
@given(url=st.text(max_size=60))
def test_any_url_is_taken_or_refused_with_the_key_named(
    tmp_path_factory: pytest.TempPathFactory, url: str
) -> None:
    home = tmp_path_factory.getbasetemp()
    raw = {"cache": {"backend": "redis", "url": url}}
    refused: ConfigError | None = None
    try:
        cache = open_cache(parse_config(raw, path=None, home=home))
    except ConfigError as exc:
        refused = exc
    if refused is not None:
        assert refused.key == "cache.url"
    else:
        assert "@" not in cache.backend.describe()
        cache.close()
