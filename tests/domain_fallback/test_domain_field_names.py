"""Every field setting of domain-fallback works by display name, slug or any case.

The one field rule (``credchain_thycotic.client``) applies to the searches, the rules' checks
of what the search returned (machine, domain, username) and the credential read. Each case
resolves one asset with one setting spelled three ways, and must take the same secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from domain_helpers import DATASET, PASSWORDS, PRIVILEGE, make_provider

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import DevServer
from credchain_domain_fallback import DomainFallbackSettings

#: the admin's own template (Host Account): Host Name, AD Domain, Login, Secret
HOST_FIELDS = {
    "machine_field": "Host Name",
    "domain_field": "AD Domain",
    "username_field": "Login",
    "password_field": "Secret",
}


class Case(NamedTuple):
    setting: str
    #: the field's display name, its slug, and an odd-case spelling
    spellings: tuple[str, str, str]
    query: AssetQuery
    #: (secret id, username, privilege password or None)
    expected: tuple[int, str, str | None]
    #: the other settings the case needs
    settings: dict[str, Any]


MACHINE_WEB = AssetQuery(asset_name="web-01.corp.example.com")
MACHINE_CUSTOM = AssetQuery(asset_name="custom-01.corp.example.com")
DOMAIN_WS = AssetQuery(asset_name="ws-9.corp.example.com")
DOMAIN_CUSTOM = AssetQuery(asset_name="other.corp.example.com")
SCAN = {"username": "svc-scan"}
HOST = dict(HOST_FIELDS)

CASES = [
    Case(
        "machine_field",
        ("Machine", "machine", "mACHINE"),
        MACHINE_WEB,
        (101, "Administrator", None),
        {},
    ),
    Case(
        "machine_field",
        ("Host Name", "host-name", "hOST nAME"),
        MACHINE_CUSTOM,
        (401, "hostadmin", None),
        HOST,
    ),
    Case(
        "domain_field",
        ("Domain", "domain", "dOMAIN"),
        DOMAIN_WS,
        (201, "CORP\\svc-scan", None),
        SCAN,
    ),
    Case(
        "domain_field",
        ("Domain", "domain", "dOMAIN"),
        AssetQuery(asset_name="ws-9.dmz.example.com"),  # DMZ is not in domains: the local rule
        (205, "svc-scan", None),
        {**SCAN, "fallback_to_local": True},
    ),
    Case(
        "domain_field",
        ("AD Domain", "ad-domain", "aD dOMAIN"),
        DOMAIN_CUSTOM,
        (402, "CORP\\svc-custom", None),
        HOST,
    ),
    Case(
        "username_field",
        ("Username", "username", "uSERNAME"),
        DOMAIN_WS,
        (201, "CORP\\svc-scan", None),
        SCAN,
    ),
    Case(
        "username_field",
        ("Login", "login", "lOGIN"),
        MACHINE_CUSTOM,
        (401, "hostadmin", None),
        {**HOST, "username": "hostadmin"},
    ),
    Case(
        "password_field",
        ("Password", "password", "pASSWORD"),
        DOMAIN_WS,
        (201, "CORP\\svc-scan", None),
        SCAN,
    ),
    Case(
        "password_field",
        ("Secret", "secret", "sECRET"),
        DOMAIN_CUSTOM,
        (402, "CORP\\svc-custom", None),
        HOST,
    ),
    Case(
        "privilege_password_field",
        ("Privilege Password", "privilege-password", "pRIVILEGE pASSWORD"),
        AssetQuery(asset_name="db-01.lab.example.com"),
        (106, "svc-scan", PRIVILEGE),
        {},
    ),
]
SPELLINGS = [
    pytest.param(case, spelling, id=f"{case.setting}={spelling}-{case.expected[0]}")
    for case in CASES
    for spelling in case.spellings
]


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(data=DATASET) as running:
        yield running


@pytest.mark.parametrize(("case", "spelling"), SPELLINGS)
def test_a_field_setting_by_name_slug_or_any_case_takes_the_same_secret(
    server: DevServer, tmp_path: Path, case: Case, spelling: str
) -> None:
    provider = make_provider(server, tmp_path, **{**case.settings, case.setting: spelling})
    server.reset_stats()
    with Resolver([ChainEntry("windows", provider)]) as resolver:
        credential = resolver.resolve(case.query)
    secret_id, username, privilege = case.expected
    assert credential.detail is not None and f"secret {secret_id} " in credential.detail
    assert credential.username == username
    assert credential.password.get_secret_value() == PASSWORDS[secret_id]
    shown = credential.privilege_password
    assert (shown.get_secret_value() if shown else None) == privilege
    # the search returned every field: the spelling reached the vault, not only the client
    assert "GET api/v1/secrets/{id}" not in server.get_stats()["requests"]


def test_every_field_setting_is_covered() -> None:
    fields = {name for name in DomainFallbackSettings.model_fields if name.endswith("_field")}
    assert fields == {case.setting for case in CASES}
