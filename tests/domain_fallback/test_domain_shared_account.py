"""Entries on one vault account share one client, session and token, in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w

from credchain import AssetQuery, Resolver
from credchain.devserver import SCANNER_PASSWORD, DevServer
from credchain_thycotic.base import SecretServerProvider

WEB = AssetQuery(asset_name="web-01.corp.example.com")  # the thycotic entry finds it
KIOSK = AssetQuery(asset_name="kiosk-07.corp.example.com")  # only the domain rule does


def write_config(home: Path, server: DevServer, **thycotic: Any) -> Path:
    home.mkdir(exist_ok=True)
    path = home / "credchain.toml"
    path.write_text(
        tomli_w.dumps(
            {
                "chain": ["primary", "windows"],
                "providers": {
                    "primary": {"type": "thycotic", **server.thycotic_table(**thycotic)},
                    "windows": {
                        "type": "domain-fallback",
                        "connection": "primary",
                        "domains": ["CORP", "LAB"],
                    },
                },
            }
        )
    )
    return path


def accounts(resolver: Resolver) -> set[int]:
    found = set()
    for entry in resolver.chain:
        assert isinstance(entry.provider, SecretServerProvider)
        found.add(id(entry.provider.client.account))
    return found


def test_thycotic_and_domain_fallback_make_one_grant(
    secret_server: DevServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, secret_server, token_cache=False)
    with Resolver.from_config(config, environ={"CREDCHAIN_HOME": str(tmp_path)}) as resolver:
        assert len(accounts(resolver)) == 1
        assert resolver.resolve(WEB).source == "primary"
        assert resolver.resolve(KIOSK).source == "windows"
    assert secret_server.get_stats()["grants"]["password"] == 1


def test_each_entry_counts_its_own_requests(secret_server: DevServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, secret_server, token_cache=False)
    with Resolver.from_config(config, environ={"CREDCHAIN_HOME": str(tmp_path)}) as resolver:
        resolver.resolve(KIOSK)
        counts = [entry.provider.vault_requests() for entry in resolver.chain]  # type: ignore[attr-defined]
    served = sum(secret_server.get_stats()["requests"].values())
    assert sum(sum(c.values()) for c in counts) == served
    assert counts[0]["token"] == 1 and "token" not in counts[1]


def test_two_resolvers_in_one_process_share_the_account(
    secret_server: DevServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, secret_server, token_cache=False)
    environ = {"CREDCHAIN_HOME": str(tmp_path)}
    with (
        Resolver.from_config(config, environ=environ) as one,
        Resolver.from_config(config, environ=environ) as two,
    ):
        assert accounts(one) == accounts(two)
        one.resolve(WEB)
        two.resolve(WEB)
    assert secret_server.get_stats()["grants"]["password"] == 1


def test_another_account_on_the_same_vault_is_not_shared(
    secret_server: DevServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, secret_server, token_cache=False)
    other = write_config(
        tmp_path / "other",
        secret_server,
        token_cache=False,
        username="scanner",
        password=SCANNER_PASSWORD,
    )
    environ = {"CREDCHAIN_HOME": str(tmp_path)}
    with (
        Resolver.from_config(config, environ=environ) as one,
        Resolver.from_config(other, environ=environ) as two,
    ):
        assert accounts(one).isdisjoint(accounts(two))


def test_the_session_closes_with_its_last_user(secret_server: DevServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, secret_server, token_cache=False)
    environ = {"CREDCHAIN_HOME": str(tmp_path)}
    with Resolver.from_config(config, environ=environ) as first:
        first.resolve(WEB)
    with Resolver.from_config(config, environ=environ) as second:
        second.resolve(WEB)
    assert secret_server.get_stats()["grants"]["password"] == 2


def test_a_chain_that_fails_to_build_releases_what_it_opened(
    secret_server: DevServer, tmp_path: Path
) -> None:
    from credchain.errors import ConfigError
    from credchain_thycotic import account

    config = write_config(tmp_path, secret_server, token_cache=False)
    text = config.read_text().replace('connection = "primary"', 'connection = "nowhere"')
    config.write_text(text)
    opened = len(account._accounts)
    with pytest.raises(ConfigError, match="nowhere"):
        Resolver.from_config(config, environ={"CREDCHAIN_HOME": str(tmp_path)})
    assert len(account._accounts) == opened
