"""Rule (b) finds a domain account whatever spelling of its domain the secret holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from domain_helpers import AD, make_provider
from hypothesis import given
from hypothesis import strategies as st

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import DevServer
from credchain.devserver.datafile import Dataset, SecretSpec
from credchain_domain_fallback.keys import domain_spellings, normalize_domain

DOMAIN_MAP = {"ad.corp.internal": "CORP"}
SPELLINGS = ["CORP", "corp", "corp.example.com", "CORP.EXAMPLE.COM", "ad.corp.internal"]
ASSET = AssetQuery(asset_name="ws-9.corp.example.com")
MACHINE_KEYS = 2  # ws-9.corp.example.com, ws-9


@pytest.fixture(scope="module", params=SPELLINGS)
def server(request: pytest.FixtureRequest) -> Iterator[DevServer]:
    """A vault whose one domain account stores its domain as ``request.param``."""
    items = {"domain": request.param, "username": "svc-scan", "password": "Pw-spelling-7"}
    data = Dataset(secrets=[SecretSpec(id=501, name="svc-scan", template_id=AD, items=items)])
    with DevServer(data=data) as running:
        yield running


@pytest.mark.parametrize("username", [None, "svc-scan"])
@pytest.mark.parametrize("domains", [["CORP"], ["corp.example.com"]])
def test_the_domain_account_is_found_in_any_spelling(
    server: DevServer, tmp_path: Path, username: str | None, domains: list[str]
) -> None:
    provider = make_provider(
        server, tmp_path, domains=domains, domain_map=DOMAIN_MAP, username=username
    )
    server.reset_stats()
    with Resolver([ChainEntry("windows", provider)]) as resolver:
        credential = resolver.resolve(ASSET)
    assert credential.username == "CORP\\svc-scan"
    assert credential.password.get_secret_value() == "Pw-spelling-7"
    searches = server.get_stats()["requests"]["GET api/v1/secrets"]
    spellings = len(domain_spellings("CORP", ["corp.example.com", *domains], DOMAIN_MAP))
    assert searches <= MACHINE_KEYS + (1 if username else spellings)


def test_spellings_of_a_domain_are_its_name_and_the_dns_names_that_stand_for_it() -> None:
    written = ["corp.example.com", "lab.example.com", "CORP.example.com"]
    assert domain_spellings("CORP", written, {"ad.corp.internal": "CORP", "x.lab": "LAB"}) == (
        "CORP",
        "corp.example.com",
        "ad.corp.internal",
    )


def test_a_dns_name_mapped_elsewhere_is_not_a_spelling() -> None:
    assert domain_spellings("CORP", ["corp.example.com"], {"corp.example.com": "EU"}) == ("CORP",)


labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
dns_names = st.lists(labels, min_size=1, max_size=4).map(".".join)


@given(
    name=labels.map(str.upper),
    written=st.lists(dns_names, max_size=5),
    domain_map=st.dictionaries(dns_names, labels.map(str.upper), max_size=4),
)
def test_every_spelling_stands_for_the_domain_once(
    name: str, written: list[str], domain_map: dict[str, str]
) -> None:
    spellings = domain_spellings(name, written, domain_map)
    assert spellings[0] == name
    assert all(normalize_domain(s, domain_map) == name for s in spellings)
    assert len({s.casefold() for s in spellings}) == len(spellings)
