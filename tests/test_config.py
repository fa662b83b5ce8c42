"""The config file: where it is found, what it may say, and how errors name the place."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from credchain.config import find_config, load_config
from credchain.errors import ConfigError
from credchain.home import CONFIG_FILE
from credchain.secretstore import SecretStore

WriteConfig = Callable[[dict[str, object]], Path]


def test_explicit_path_wins_over_environment(tmp_path: Path) -> None:
    env = {"CREDCHAIN_CONFIG": str(tmp_path / "env.toml")}
    assert find_config(tmp_path / "given.toml", env) == (tmp_path / "given.toml", tmp_path)


def test_environment_variable_wins_over_home(tmp_path: Path) -> None:
    env = {"CREDCHAIN_CONFIG": str(tmp_path / "env.toml"), "CREDCHAIN_HOME": str(tmp_path / "h")}
    assert find_config(None, env) == (tmp_path / "env.toml", tmp_path / "h")


def test_default_is_the_home_config(tmp_path: Path) -> None:
    assert find_config(None, {"CREDCHAIN_HOME": str(tmp_path)}) == (
        tmp_path / CONFIG_FILE,
        tmp_path,
    )


def test_platform_home_when_nothing_is_set() -> None:
    path, home = find_config(None, {})
    assert path == home / CONFIG_FILE
    assert home.name == "credchain"


def test_minimal_config(write_config: WriteConfig) -> None:
    write_config({"chain": ["a", "b"], "providers": {"b": {"type": "static", "on_error": "next"}}})
    config = load_config()
    assert config.enabled is True
    assert config.chain == ("a", "b")
    assert config.entry("a").type == "a"
    assert config.entry("b").type == "static"
    assert config.entry("b").on_error == "next"


def test_missing_file_says_how_to_create_one(home: Path) -> None:
    with pytest.raises(ConfigError, match="credchain add"):
        load_config()


def test_broken_toml_names_the_file(home: Path) -> None:
    (home / CONFIG_FILE).write_text("chain = [\n")
    with pytest.raises(ConfigError, match=str(home / CONFIG_FILE)):
        load_config()


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"chian": []}, "chian"),
        ({"enabled": "yes"}, "enabled"),
        ({"chain": "a"}, "chain"),
        ({"chain": ["a", "a"]}, "chain"),
        ({"providers": {"a": 1}}, "providers.a"),
        ({"providers": {"a": {"type": 3}}}, "providers.a.type"),
        ({"providers": {"a": {"on_error": "retry"}}}, "providers.a.on_error"),
        (
            {"providers": {"a": {"password_env": "CREDCHAIN_TEST_UNSET"}}},
            "providers.a.password_env",
        ),
        (
            {"providers": {"a": {"password": "x", "password_env": "HOME"}}},
            "providers.a.password_env",
        ),
    ],
)
def test_errors_name_file_and_key(
    write_config: WriteConfig, document: dict[str, object], key: str
) -> None:
    path = write_config(document)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.key == key
    assert str(path) in str(caught.value) and repr(key) in str(caught.value)


def test_env_setting_is_read_from_the_environment(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_PW", "from-env")
    write_config({"chain": ["a"], "providers": {"a": {"password_env": "VAULT_PW"}}})
    entry = load_config().entry("a")
    assert entry.settings == {"password": "from-env"}
    assert entry.plain_keys == frozenset()


def test_encrypted_setting_is_decrypted(write_config: WriteConfig, home: Path) -> None:
    token = SecretStore(home).encrypt("s3cret")
    write_config({"chain": ["a"], "providers": {"a": {"password": token, "nested": {"p": token}}}})
    entry = load_config().entry("a")
    assert entry.settings == {"password": "s3cret", "nested": {"p": "s3cret"}}


def test_tampered_encrypted_setting_is_an_error_naming_the_key(
    write_config: WriteConfig, home: Path
) -> None:
    token = SecretStore(home).encrypt("s3cret")
    write_config({"chain": ["a"], "providers": {"a": {"password": token[:-4] + "AAAA"}}})
    with pytest.raises(ConfigError, match=r"providers\.a\.password.*tampered"):
        load_config()


def test_plain_keys_are_recorded_with_their_path(write_config: WriteConfig) -> None:
    write_config({"chain": ["a"], "providers": {"a": {"password": "p", "mapping": {"field": "x"}}}})
    assert load_config().entry("a").plain_keys == {"password", "mapping.field"}


def test_config_given_by_path_uses_its_directory_as_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDCHAIN_HOME", raising=False)
    path = tmp_path / "elsewhere.toml"
    path.write_text('chain = ["a"]\n')
    config = load_config(path, environ={})
    assert config.home == tmp_path
    assert config.path == path
    assert not os.environ.get("CREDCHAIN_HOME")


@pytest.mark.timeout(10)
def test_fifo_as_config_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "credchain.toml"
    os.mkfifo(path)
    with pytest.raises(ConfigError, match="not a regular file") as caught:
        load_config(path, environ={})
    assert str(path) in str(caught.value)


@pytest.mark.timeout(10)
def test_config_larger_than_1_mib_is_refused(home: Path) -> None:
    path = home / CONFIG_FILE
    path.write_text('chain = ["a"]\n' + "#" * (1024 * 1024) + "\n")
    with pytest.raises(ConfigError, match="larger than 1 MiB") as caught:
        load_config()
    assert str(path) in str(caught.value)
