"""Every field setting of the mapping works by display name, slug or any case: one credential.

The one field rule (``credchain_thycotic.client``): a field is named by its display name or its
slug, in any case. Each case below resolves the same asset with one mapping setting spelled
three ways, and must give the same SAFE dict, from the search alone (no second read).
"""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

import pytest
from thycotic_helpers import MakeResolver

from credchain import AssetQuery
from credchain.devserver import DevServer, demo_password

WEB = "web-01.corp.example.com"  # a Scan Account: username, password, privilege password
DC = "dc-01.corp.example.com"  # a Windows Account: Machine is its FQDN
SWITCH = "sw-01.corp.example.com"  # a Password secret: Resource is its IP address


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Case(NamedTuple):
    setting: str
    #: the field's display name, its slug, and an odd-case spelling
    spellings: tuple[str, str, str]
    query: AssetQuery
    expected: dict[str, str]
    #: the rest of the mapping the case needs
    mapping: dict[str, Any]


SCAN_ACCOUNT = {
    "username": "svc-scan",
    "password": b64(demo_password(WEB)),
    "privilegePassword": b64(demo_password(WEB + ":root")),
}
PRIVILEGE = {"privilege_password_field": "Privilege Password"}

CASES = [
    Case(
        "thycotic_field",
        ("Secret Name", "secret-name", "sECRET nAME"),
        AssetQuery(asset_name=WEB),
        SCAN_ACCOUNT,
        PRIVILEGE,
    ),
    Case(
        "thycotic_field",
        ("Machine", "machine", "mACHINE"),
        AssetQuery(asset_name=DC),
        {"username": "Administrator", "password": b64(demo_password(DC + " Administrator"))},
        {},
    ),
    Case(
        "thycotic_field",
        ("Resource", "resource", "rESOURCE"),
        AssetQuery(ip_address="10.0.1.37"),
        {"username": "netadmin", "password": b64(demo_password(SWITCH))},
        {"safe_field": "ip_address"},
    ),
    Case(
        "username_field",
        ("Username", "username", "uSERNAME"),
        AssetQuery(asset_name=WEB),
        SCAN_ACCOUNT,
        PRIVILEGE,
    ),
    Case(
        "password_field",
        ("Password", "password", "pASSWORD"),
        AssetQuery(asset_name=WEB),
        SCAN_ACCOUNT,
        PRIVILEGE,
    ),
    Case(
        "privilege_password_field",
        ("Privilege Password", "privilege-password", "pRIVILEGE pASSWORD"),
        AssetQuery(asset_name=WEB),
        SCAN_ACCOUNT,
        {},
    ),
]
SPELLINGS = [
    pytest.param(case, spelling, id=f"{case.setting}={spelling}")
    for case in CASES
    for spelling in case.spellings
]


@pytest.mark.parametrize(("case", "spelling"), SPELLINGS)
def test_a_field_setting_by_name_slug_or_any_case_gives_the_same_credential(
    secret_server: DevServer, make_resolver: MakeResolver, case: Case, spelling: str
) -> None:
    mapping = {**case.mapping, case.setting: spelling}
    resolver = make_resolver(secret_server, mapping=mapping)
    credential = resolver.resolve(case.query)
    assert credential.to_safe_dict() == case.expected
    # the search returned every field: the spelling reached the vault, not only the client
    assert "GET api/v1/secrets/{id}" not in secret_server.get_stats()["requests"]


def test_every_mapping_field_setting_is_covered() -> None:
    from credchain_thycotic.mapping import Mapping

    fields = {name for name in Mapping.model_fields if name.endswith("_field")}
    assert fields - {"safe_field"} == {case.setting for case in CASES}
