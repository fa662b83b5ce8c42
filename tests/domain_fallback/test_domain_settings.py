"""Settings validation, the ``connection`` entry, and loading by entry point from a config."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from domain_helpers import DATASET, PASSWORDS, connection_table, make_provider
from pydantic import ValidationError

from credchain import Resolver
from credchain.devserver import DevServer
from credchain.errors import ConfigError
from credchain_domain_fallback import DomainFallbackSettings


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(data=DATASET) as running:
        yield running


def settings(**values: Any) -> DomainFallbackSettings:
    return DomainFallbackSettings.model_validate({"connection": "primary", **values})


def test_defaults_are_the_seeds() -> None:
    s = settings()
    assert (s.domain_field, s.machine_field, s.domains, s.fallback_to_local) == (
        "Domain",
        "Machine",
        (),
        False,
    )


def test_domains_comma_separated_or_list() -> None:
    assert settings(domains="CORP, lab ,").domain_names == {"CORP", "LAB"}
    assert settings(domains=["corp.example.com"]).domain_names == {"CORP"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"fallback_to_local": True}, "fallback_to_local needs username"),
        ({"domains": ["CORP"], "default_domain": "LAB"}, "must be one of domains"),
        ({"username": "CORP\\svc-scan"}, "bare account name"),
        ({"username": "svc@corp"}, "bare account name"),
        ({"domain_map": {"corp.example.com": "corp.x"}}, "maps a DNS suffix"),
        ({"organization": "\\"}, "folder path"),
        ({"connection": ""}, "at least 1 character"),
        ({"machine_fields": "x"}, "Extra inputs"),
    ],
)
def test_invalid_settings(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_missing_connection_is_a_config_error(server: DevServer, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"providers\.windows\.connection.*no \[providers\.dr\]"):
        make_provider(server, tmp_path, connection="dr")


def test_connection_of_the_wrong_type(server: DevServer, tmp_path: Path) -> None:
    from credchain.config import Config, EntryConfig
    from credchain.provider import ProviderContext
    from credchain_domain_fallback import DomainFallbackProvider

    config = Config(
        path=None, home=tmp_path, providers={"primary": EntryConfig("primary", "custom-script")}
    )
    context = ProviderContext("windows", tmp_path, config=config)
    with pytest.raises(ConfigError, match=r"connection'.*type 'custom-script'"):
        DomainFallbackProvider(settings(), context)


def test_invalid_connection_names_its_key(server: DevServer, tmp_path: Path) -> None:
    broken = connection_table(server, url="ftp://vault")
    with pytest.raises(ConfigError, match=r"connection'.*invalid.*primary[.]url"):
        make_provider(server, tmp_path, connection_values=broken)


def test_no_config_in_context_is_a_config_error(tmp_path: Path) -> None:
    from credchain.provider import ProviderContext
    from credchain_domain_fallback import DomainFallbackProvider

    with pytest.raises(ConfigError, match="connection"):
        DomainFallbackProvider(settings(), ProviderContext("windows", tmp_path))


def test_from_config_with_a_connection_outside_the_chain(
    server: DevServer, write_config: Callable[[dict[str, object]], Path]
) -> None:
    table = {k: v for k, v in connection_table(server).items() if v is not None}
    path = write_config(
        {
            "chain": ["windows"],
            "providers": {
                "primary": {"type": "thycotic", **table},
                "windows": {
                    "type": "domain-fallback",
                    "connection": "primary",
                    "domains": "CORP, LAB",
                    "username": "svc-scan",
                    "fallback_to_local": True,
                },
            },
        }
    )
    with Resolver.from_config(str(path)) as resolver:
        credential = resolver.resolve({"asset_name": "ws-9.corp.example.com"})
        local = resolver.resolve({"asset_name": "ws-9.dmz.example.com"})
    assert credential.source == "windows"
    assert credential.password.get_secret_value() == PASSWORDS[201]
    assert local.password.get_secret_value() == PASSWORDS[205]
