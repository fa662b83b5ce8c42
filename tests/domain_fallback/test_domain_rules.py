"""The three rules against the dev server: machine, domain, local; every setting; the ties."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from domain_helpers import DATASET, PASSWORDS, PRIVILEGE, TIER0_FOLDER, make_provider

from credchain import AssetQuery, ChainEntry, Resolver, SafeCredential
from credchain.devserver import DevServer
from credchain.errors import CredentialNotFound, ProviderError
from credchain.trace import Trace


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(data=DATASET) as running:
        yield running


@pytest.fixture
def chain(server: DevServer, tmp_path: Path) -> Iterator[Callable[..., Resolver]]:
    """``chain(**settings)``: a one-entry chain ``windows`` of type domain-fallback."""
    made: list[Resolver] = []
    server.reset_stats()

    def make(**settings: Any) -> Resolver:
        provider = make_provider(server, tmp_path, **settings)
        resolver = Resolver([ChainEntry("windows", provider, type="domain-fallback")])
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        resolver.close()


def found(resolver: Resolver, **query: str) -> tuple[SafeCredential, Trace]:
    asset = AssetQuery(**query)
    return resolver.resolve(asset), resolver.explain(asset)


def secret_id(credential: SafeCredential) -> int:
    assert credential.detail is not None
    return int(credential.detail.split("secret ", 1)[1].split()[0])


# -- (a) machine ---------------------------------------------------------------------------------


def test_machine_secret_by_asset_name(chain: Callable[..., Resolver]) -> None:
    credential, trace = found(chain(), asset_name="web-01.corp.example.com")
    assert credential.username == "Administrator"
    assert credential.password.get_secret_value() == PASSWORDS[101]
    assert (
        credential.detail
        == "rule machine (web-01.corp.example.com): secret 101 'web-01 Administrator'"
    )
    assert "machine keys: web-01.corp.example.com, web-01" in trace.steps[0].reason


def test_machine_secret_by_host_name_in_ip_address(chain: Callable[..., Resolver]) -> None:
    credential, _ = found(chain(), ip_address="web-01.corp.example.com")
    assert secret_id(credential) == 101


def test_machine_secret_by_short_name_when_username_narrows(chain: Callable[..., Resolver]) -> None:
    # 101 is the FQDN's secret but for Administrator; 102 is svc-scan's, by short name (any case)
    credential, trace = found(chain(username="svc-scan"), asset_name="web-01.corp.example.com")
    assert secret_id(credential) == 102
    assert credential.username == "svc-scan"
    assert "rule machine matched key web-01" in trace.steps[0].reason


def test_machine_secret_by_ip_address(chain: Callable[..., Resolver]) -> None:
    credential, trace = found(chain(), asset_name="srv-x", ip_address="10.0.0.5")
    assert secret_id(credential) == 103
    assert "machine keys: srv-x, 10.0.0.5" in trace.steps[0].reason


def test_asset_name_key_is_tried_before_the_ip_address(chain: Callable[..., Resolver]) -> None:
    credential, _ = found(chain(), asset_name="web-01.corp.example.com", ip_address="10.0.0.5")
    assert secret_id(credential) == 101


def test_two_machine_secrets_for_one_key_oldest_wins(chain: Callable[..., Resolver]) -> None:
    # 111 sorts first by name; the lower id decides, never the server's order
    credential, _ = found(chain(), asset_name="app-01.corp.example.com")
    assert secret_id(credential) == 110


@pytest.mark.parametrize("field", ["Privilege Password", "privilege-password"])
def test_privilege_password_field_by_name_or_slug(
    chain: Callable[..., Resolver], server: DevServer, field: str
) -> None:
    credential, _ = found(chain(privilege_password_field=field), asset_name="db-01.lab.example.com")
    assert credential.privilege_password is not None
    assert credential.privilege_password.get_secret_value() == PRIVILEGE
    assert secret_id(credential) == 106
    assert server.get_stats()["requests"].get("GET api/v1/secrets/{id}", 0) == 0


def test_machine_secret_is_one_search(chain: Callable[..., Resolver], server: DevServer) -> None:
    chain().resolve(AssetQuery(asset_name="web-01.corp.example.com"))
    assert server.get_stats()["requests"] == {"POST oauth2/token": 1, "GET api/v1/secrets": 1}


# -- (b) domain ----------------------------------------------------------------------------------


def test_domain_account_by_fqdn_suffix(chain: Callable[..., Resolver], server: DevServer) -> None:
    credential, trace = found(chain(username="svc-scan"), asset_name="ws-9.corp.example.com")
    assert credential.username == "CORP\\svc-scan"
    assert credential.password.get_secret_value() == PASSWORDS[201]
    assert credential.detail == "rule domain (CORP\\svc-scan): secret 201 'CORP svc-scan'"
    reason = trace.steps[0].reason
    assert "asset domain: CORP (from the suffix of ws-9.corp.example.com)" in reason
    assert "rule machine: no secret for ws-9.corp.example.com, ws-9" in reason
    server.reset_stats()
    chain(username="svc-scan").resolve(AssetQuery(asset_name="ws-9.corp.example.com"))
    # two machine keys, then one search for the domain and local rules together; the token
    # comes from the home's cache
    assert server.get_stats()["requests"] == {"GET api/v1/secrets": 3}


def test_domain_hint_wins_and_dns_domain_values_match(chain: Callable[..., Resolver]) -> None:
    # 202 stores its domain as lab.example.com: it is LAB
    credential, trace = found(chain(username="svc-scan"), asset_name="ws-9", domain="LAB")
    assert secret_id(credential) == 202
    assert credential.username == "LAB\\svc-scan"
    assert "(from the query's domain hint)" in trace.steps[0].reason


def test_domain_hint_given_as_a_dns_name(chain: Callable[..., Resolver]) -> None:
    credential, _ = found(chain(username="svc-scan"), asset_name="ws-9", domain="lab.example.com")
    assert secret_id(credential) == 202


def test_domain_map_maps_a_deeper_suffix(chain: Callable[..., Resolver]) -> None:
    query = {"asset_name": "ws-9.eu.corp.example.com"}
    with pytest.raises(CredentialNotFound, match=r"EU is not one of domains"):
        chain(username="svc-scan").resolve(query)
    mapped = chain(username="svc-scan", domain_map={"corp.example.com": "CORP"})
    assert secret_id(mapped.resolve(query)) == 201


def test_default_domain_for_an_asset_without_one(chain: Callable[..., Resolver]) -> None:
    with pytest.raises(CredentialNotFound, match="the asset's domain is unknown"):
        chain(username="svc-scan").resolve({"ip_address": "10.9.9.9"})
    credential, trace = found(
        chain(username="svc-scan", default_domain="corp"), ip_address="10.9.9.9"
    )
    assert secret_id(credential) == 201
    assert "asset domain: CORP (from default_domain)" in trace.steps[0].reason


def test_a_domain_not_in_domains_is_never_used(chain: Callable[..., Resolver]) -> None:
    # OTHER\svc-scan (204) exists, but OTHER is not listed
    with pytest.raises(CredentialNotFound, match="OTHER is not one of domains"):
        chain(username="svc-scan").resolve({"asset_name": "ws-9", "domain": "OTHER"})


def test_no_domains_turns_the_domain_rule_off(chain: Callable[..., Resolver]) -> None:
    with pytest.raises(CredentialNotFound, match=r"rule domain: off"):
        chain(username="svc-scan", domains=[]).resolve({"asset_name": "ws-9.corp.example.com"})


def test_domains_as_comma_separated_text(chain: Callable[..., Resolver]) -> None:
    resolver = chain(username="svc-scan", domains="LAB, CORP")
    assert secret_id(resolver.resolve({"asset_name": "ws-9.lab.example.com"})) == 202


def test_without_username_the_oldest_account_of_the_domain(chain: Callable[..., Resolver]) -> None:
    # CORP holds 201, 203 ("corp"), 208, 210 and 300: the lowest id decides
    credential, _ = found(chain(), asset_name="ws-9.corp.example.com")
    assert secret_id(credential) == 201


def test_two_accounts_for_one_domain_and_username_oldest_wins(
    chain: Callable[..., Resolver],
) -> None:
    # 201 and 208 are both CORP\svc-scan (208 sorts first by name)
    assert (
        secret_id(chain(username="svc-scan").resolve({"asset_name": "x.corp.example.com"})) == 201
    )


def test_machine_scan_account_is_not_a_domain_account(chain: Callable[..., Resolver]) -> None:
    # 106 has Domain LAB and user svc-scan but belongs to db-01: ws-7 gets LAB\svc-scan (202)
    assert (
        secret_id(chain(username="svc-scan").resolve({"asset_name": "ws-7.lab.example.com"})) == 202
    )


def test_username_returned_plain_without_qualify_username(chain: Callable[..., Resolver]) -> None:
    resolver = chain(username="svc-scan", qualify_username=False)
    assert resolver.resolve({"asset_name": "ws-9.corp.example.com"}).username == "svc-scan"


def test_organization_folder_by_path_and_by_id(
    chain: Callable[..., Resolver], server: DevServer
) -> None:
    query = {"asset_name": "ws-9.corp.example.com"}
    assert secret_id(chain(username="svc-scan", organization="\\Tier0").resolve(query)) == 300
    assert secret_id(chain(username="svc-scan", organization=TIER0_FOLDER).resolve(query)) == 300
    scan = chain(username="svc-scan", organization="\\Scan Accounts")
    assert secret_id(scan.resolve(query)) == 201
    server.reset_stats()
    scan.resolve(query)
    scan.resolve(query)
    assert server.get_stats()["requests"] == {"GET api/v1/secrets": 6}  # folder looked up once


def test_unknown_organization_is_a_clear_error(chain: Callable[..., Resolver]) -> None:
    with pytest.raises(ProviderError, match=r"organization '\\\\Nowhere': no such folder"):
        chain(organization="\\Nowhere").resolve({"asset_name": "ws-9.corp.example.com"})


def test_comment_required_domain_account_is_read_with_the_comment(
    chain: Callable[..., Resolver], server: DevServer
) -> None:
    with pytest.raises(ProviderError, match=r"requires a comment.*providers\.primary\.comment"):
        chain(username="svc-audit").resolve({"asset_name": "ws-9.corp.example.com"})
    from domain_helpers import connection_table

    resolver = chain(
        username="svc-audit", connection_values=connection_table(server, comment="scan")
    )
    credential = resolver.resolve({"asset_name": "ws-9.corp.example.com"})
    assert credential.password.get_secret_value() == PASSWORDS[210]


def test_check_out_domain_account_is_read_by_id(chain: Callable[..., Resolver]) -> None:
    credential = chain(username="break-glass").resolve({"asset_name": "ws-9.lab.example.com"})
    assert credential.password.get_secret_value() == PASSWORDS[211]
    assert credential.username == "LAB\\break-glass"


def test_custom_machine_domain_and_credential_fields(chain: Callable[..., Resolver]) -> None:
    fields = {
        "machine_field": "Host Name",
        "domain_field": "AD Domain",
        "username_field": "Login",
        "password_field": "Secret",
    }
    machine = chain(**fields).resolve({"asset_name": "custom-01.corp.example.com"})
    assert (machine.username, machine.password.get_secret_value()) == ("hostadmin", PASSWORDS[401])
    domain = chain(**fields).resolve({"asset_name": "other.corp.example.com"})
    assert (domain.username, domain.password.get_secret_value()) == (
        "CORP\\svc-custom",
        PASSWORDS[402],
    )


# -- (c) local -----------------------------------------------------------------------------------


def test_local_account_when_no_domain_account(chain: Callable[..., Resolver]) -> None:
    resolver = chain(username="svc-scan", fallback_to_local=True)
    credential, trace = found(resolver, asset_name="ws-9.dmz.example.com")
    assert credential.username == "svc-scan"
    assert credential.password.get_secret_value() == PASSWORDS[205]
    assert credential.detail == "rule local (svc-scan): secret 205 'svc-scan (local)'"
    assert "DMZ is not one of domains" in trace.steps[0].reason


def test_no_local_account_without_fallback(chain: Callable[..., Resolver]) -> None:
    with pytest.raises(CredentialNotFound):
        chain(username="svc-scan").resolve({"asset_name": "ws-9.dmz.example.com"})


def test_domain_account_is_preferred_to_the_local_one(chain: Callable[..., Resolver]) -> None:
    resolver = chain(username="svc-scan", fallback_to_local=True)
    assert secret_id(resolver.resolve({"asset_name": "ws-9.corp.example.com"})) == 201


def test_local_fallback_when_the_domain_has_no_such_account(chain: Callable[..., Resolver]) -> None:
    # LAB is allowed but has no svc-backup: the local svc-backup (206)
    resolver = chain(username="svc-backup", fallback_to_local=True)
    credential, trace = found(resolver, asset_name="ws-9.lab.example.com")
    assert secret_id(credential) == 206
    assert "rule domain: no secret for LAB\\svc-backup" in trace.steps[0].reason


def test_local_fallback_ignores_machine_secrets(chain: Callable[..., Resolver]) -> None:
    # 102 (machine WEB-01, svc-scan) is a machine secret: it is not the local account
    resolver = chain(username="svc-scan", fallback_to_local=True, domains=["LAB"])
    assert secret_id(resolver.resolve({"asset_name": "ws-1.corp.example.com"})) == 205
