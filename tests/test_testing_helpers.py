"""The helpers credchain.testing gives plugin authors: a provider built and chained as in a scan."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from credchain import ChainEntry, Resolver
from credchain.errors import ConfigError
from credchain.testing.home import CredchainHome
from credchain.testing.providers import NotHereProvider, StaticProvider
from credchain.testing.resolvers import make_provider

WEB = {"asset_name": "web-01"}
TABLE = {"credentials": {"web-01": {"username": "svc", "password": "pw"}}}


def test_make_provider_validates_the_table_as_a_chain_entry(tmp_path: Path) -> None:
    provider = make_provider(StaticProvider, TABLE, entry="lab", home=tmp_path)
    assert provider.context.entry == "lab" and provider.context.environ == {}
    with pytest.raises(ConfigError, match=r"providers\.lab\.nope.*unknown setting"):
        make_provider(StaticProvider, {"nope": 1}, entry="lab", home=tmp_path)


def test_resolver_for_puts_the_provider_between_the_others(
    tmp_path: Path, resolver_for: Callable[..., Resolver]
) -> None:
    provider = make_provider(StaticProvider, TABLE, home=tmp_path)
    resolver = resolver_for(
        provider,
        name="lab",
        before=[NotHereProvider(), ChainEntry("named", NotHereProvider())],
        after=[NotHereProvider()],
    )
    assert [entry.name for entry in resolver.chain] == ["before-1", "named", "lab", "after-1"]
    assert resolver.resolve(WEB).source == "lab"


def test_credchain_home_is_the_tests_home(credchain_home: CredchainHome) -> None:
    assert os.environ["CREDCHAIN_HOME"] == str(credchain_home.path)
    assert credchain_home.path.stat().st_mode & 0o777 == 0o700
    path = credchain_home.write_config({"chain": []})
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ConfigError, match="chain is empty"):
        credchain_home.resolver()
    assert credchain_home.invoke("status").stdout.startswith("Not configured")
