"""The token cache: reuse across clients and runs, expiry, tampering, clearing, no secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from credchain.cache import TokenCache, token_identity
from credchain.cli.cache import cache as cache_command
from credchain.devserver import DevServer
from credchain.home import TOKEN_CACHE_DIR as CACHE_DIR
from credchain.testing.secrets import assert_no_secrets
from credchain.tokens import AccessToken, TokenGrant, TokenKeeper
from credchain_thycotic import SecretServerClient, ThycoticSettings

Factory = Callable[..., DevServer]
WEB = "web-01.corp.example.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def settings_for(server: DevServer, **overrides: Any) -> ThycoticSettings:
    values: dict[str, Any] = {"retries": 1, **overrides}
    return ThycoticSettings.model_validate(server.thycotic_table(**values))


def client(
    server: DevServer, home: Path, clock: Callable[[], float] | None = None
) -> SecretServerClient:
    clock = clock or Clock()
    return SecretServerClient(
        settings_for(server), clock=clock, token_cache=TokenCache(home, clock=clock)
    )


def grants(server: DevServer) -> int:
    return int(server.get_stats()["grants"]["password"])


def entries(home: Path) -> list[Path]:
    return sorted((home / CACHE_DIR).glob("*.token"))


def test_two_clients_share_one_grant(secret_server: DevServer, tmp_path: Path) -> None:
    first, second = client(secret_server, tmp_path), client(secret_server, tmp_path)
    first.search(WEB)
    second.search(WEB)  # a later run: a new client, the same home
    assert grants(secret_server) == 1
    assert len(entries(tmp_path)) == 1
    first.close()
    second.close()


def test_expired_token_means_a_new_grant(secret_server_factory: Factory, tmp_path: Path) -> None:
    clock = Clock()
    server = secret_server_factory(token_ttl=60, refresh_tokens=False, clock=clock)
    client(server, tmp_path, clock).search(WEB)
    clock.now += 61
    client(server, tmp_path, clock).search(WEB)
    assert grants(server) == 2
    assert len(entries(tmp_path)) == 1  # the new token replaced the expired one


def test_expired_entry_is_a_miss_and_deleted(tmp_path: Path) -> None:
    clock = Clock()
    cache = TokenCache(tmp_path, clock=clock)
    identity = token_identity("https://v/oauth2/token", "password", "svc")
    cache.put(identity, AccessToken("tok", expires_at=clock.now + 5, renew_at=clock.now + 4))
    assert cache.get(identity) is not None
    clock.now += 5
    assert cache.get(identity) is None
    assert entries(tmp_path) == []


def test_token_the_vault_revoked_is_replaced(secret_server: DevServer, tmp_path: Path) -> None:
    client(secret_server, tmp_path).search(WEB)
    secret_server.revoke_tokens()
    client(secret_server, tmp_path).search(WEB)  # cached token refused: one new grant, retried
    assert grants(secret_server) == 2
    third = client(secret_server, tmp_path)
    third.search(WEB)
    assert grants(secret_server) == 2


@pytest.mark.parametrize("damage", ["flip", "garbage", "key-lost"])
def test_tampered_entry_is_discarded_and_logged(
    secret_server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    client(secret_server, tmp_path).search(WEB)
    (path,) = entries(tmp_path)
    sealed = path.read_text()
    if damage == "flip":
        middle = len(sealed) // 2
        flipped = "A" if sealed[middle] != "A" else "B"
        path.write_text(sealed[:middle] + flipped + sealed[middle + 1 :])
    elif damage == "garbage":
        path.write_bytes(b"\xff\x00not a token")
    else:
        (tmp_path / "secret.key").unlink()
    caplog.set_level(logging.WARNING)
    client(secret_server, tmp_path).search(WEB)
    assert grants(secret_server) == 2
    assert f"discarded the token cache entry {path.name}" in caplog.text
    assert_no_secrets(caplog.text, [secret_server.admin.password, sealed])


def test_entry_copied_over_another_accounts_is_discarded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = TokenCache(tmp_path)
    mine = token_identity("https://v/oauth2/token", "password", "svc")
    theirs = token_identity("https://v/oauth2/token", "password", "admin")
    cache.put(mine, AccessToken("tok-mine", 9e12, 9e12))
    (tmp_path / CACHE_DIR / f"{mine}.token").rename(tmp_path / CACHE_DIR / f"{theirs}.token")
    assert cache.get(theirs) is None
    assert "written for another account" in caplog.text
    assert entries(tmp_path) == []


def test_cache_file_is_private_and_holds_no_plain_secret(
    secret_server: DevServer, tmp_path: Path
) -> None:
    c = client(secret_server, tmp_path)
    c.search(WEB)
    token = c.account.tokens.current
    assert token is not None
    (path,) = entries(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert c.account.identity in path.name
    secrets = [secret_server.admin.password, token.value, *(filter(None, [token.refresh_token]))]
    assert_no_secrets(path.read_text() + path.name + repr(c.account.tokens.current), secrets)


def test_identity_names_no_secret_and_separates_accounts() -> None:
    a = token_identity("https://v/t", "password", "svc", "CORP")
    assert a != token_identity("https://v/t", "password", "svc", None)
    assert a != token_identity("https://v/t", "client_credentials", "svc", "CORP")
    assert len(a) == 64 and "svc" not in a


def test_token_cache_off(secret_server: DevServer, tmp_path: Path) -> None:
    from credchain.provider import ProviderContext
    from credchain_thycotic import ThycoticProvider

    provider = ThycoticProvider(
        settings_for(secret_server, token_cache=False), ProviderContext("t", tmp_path)
    )
    provider.client.search(WEB)
    assert provider.client.account.token_cache is None
    assert not (tmp_path / CACHE_DIR).exists()
    provider.close()


def test_keeper_tells_of_every_new_token() -> None:
    seen: list[AccessToken] = []
    clock = Clock()
    keeper = TokenKeeper(
        lambda: TokenGrant("a", 100, "r"),
        lambda refresh: TokenGrant("b", 100),
        clock=clock,
        on_new_token=seen.append,
    )
    keeper.get()
    keeper.get()
    clock.now += 99
    keeper.get()
    assert [t.value for t in seen] == ["a", "b"]


def test_clear_counts_entries(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    assert cache.clear() == 0
    for account in ("a", "b"):
        cache.put(token_identity("u", "password", account), AccessToken("t", 9e12, 9e12))
    assert cache.clear() == 2
    assert entries(tmp_path) == []


def test_cli_cache_clear_uses_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    TokenCache(home).put(token_identity("u", "password", "a"), AccessToken("t", 9e12, 9e12))
    runner = CliRunner()
    result = runner.invoke(
        cache_command, ["clear"], env={"CREDCHAIN_HOME": str(home), "CREDCHAIN_CONFIG": None}
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"cleared 1 token cache entry in {home}\n"
    again = runner.invoke(cache_command, ["clear"], env={"CREDCHAIN_HOME": str(home)})
    assert again.output.startswith("cleared 0 token cache entries")


def test_cli_cache_clear_with_config_uses_its_directory(tmp_path: Path) -> None:
    config = tmp_path / "site" / "credchain.toml"
    TokenCache(config.parent).put(
        token_identity("u", "password", "a"), AccessToken("t", 9e12, 9e12)
    )
    result = CliRunner().invoke(
        cache_command, ["clear", "--config", str(config)], env={"CREDCHAIN_HOME": None}
    )
    assert result.exit_code == 0, result.output
    assert "cleared 1 token cache entry" in result.output
    assert json.dumps(result.output)  # one plain line
