"""A short name is a machine of its domain: it never takes another domain's machine secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from domain_helpers import AD, SCAN, WINDOWS, make_provider
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import DevServer
from credchain.devserver.datafile import Dataset, SecretSpec
from credchain.errors import CredentialNotFound
from credchain_domain_fallback.keys import (
    MachineKey,
    is_ip_address,
    machine_keys,
    normalize_domain,
    scoped_machine_keys,
)
from credchain_domain_fallback.rules import short_name_allows

DC09_CORP = "Pw-dc09-corp-Zq81!"
DC09_LAB = "Pw-dc09-lab-Vn27!"
DC10_NODOMAIN = "Pw-dc10-none-Hh55!"
SVC_LOCAL = "Pw-local-Kk12!"


def _data() -> Dataset:
    def scan(secret_id: int, machine: str, domain: str, password: str) -> SecretSpec:
        items = {"machine": machine, "domain": domain, "username": "svc-scan"}
        return SecretSpec(
            id=secret_id,
            name=f"{machine} {domain}",
            template_id=SCAN,
            items={**items, "password": password},
        )

    return Dataset(
        secrets=[
            scan(701, "DC-09", "CORP", DC09_CORP),
            scan(702, "dc-09", "lab.example.com", DC09_LAB),
            SecretSpec(
                id=703,
                name="DC-10 Administrator",
                template_id=WINDOWS,
                items={"machine": "DC-10", "username": "Administrator", "password": DC10_NODOMAIN},
            ),
            SecretSpec(
                id=704,
                name="svc-scan (local)",
                template_id=AD,
                items={"domain": "", "username": "svc-scan", "password": SVC_LOCAL},
            ),
        ]
    )


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(data=_data()) as running:
        yield running


@pytest.fixture
def resolver(server: DevServer, tmp_path: Path) -> Iterator[Resolver]:
    provider = make_provider(server, tmp_path, domains=["CORP", "LAB"])
    with Resolver([ChainEntry("windows", provider, type="domain-fallback")]) as made:
        yield made


def test_an_fqdn_of_another_domain_does_not_get_the_short_names_secret(
    resolver: Resolver,
) -> None:
    with pytest.raises(CredentialNotFound):
        resolver.resolve(AssetQuery(asset_name="dc-09.evil.example.net"))


def test_a_host_name_in_ip_address_does_not_get_the_short_names_secret(
    resolver: Resolver,
) -> None:
    with pytest.raises(CredentialNotFound):
        resolver.resolve(AssetQuery(ip_address="dc-09.attacker.test"))


def test_a_second_fqdn_of_another_domain_does_not_get_the_short_names_secret(
    resolver: Resolver,
) -> None:
    # the asset is in CORP by its name, but dc-09 is cut from attacker.test
    query = AssetQuery(asset_name="srv-77.corp.example.com", ip_address="dc-09.attacker.test")
    with pytest.raises(CredentialNotFound):
        resolver.resolve(query)


def test_the_short_name_of_the_secrets_domain_gets_it(resolver: Resolver) -> None:
    credential = resolver.resolve(AssetQuery(asset_name="dc-09.corp.example.com"))
    assert credential.password.get_secret_value() == DC09_CORP


def test_a_secrets_domain_written_as_a_dns_name_is_its_domain(resolver: Resolver) -> None:
    # 701 (CORP) and 702 (lab.example.com) both have Machine dc-09: only LAB's is LAB's
    credential = resolver.resolve(AssetQuery(asset_name="dc-09.lab.example.com"))
    assert credential.password.get_secret_value() == DC09_LAB


def test_the_domain_hint_is_the_short_names_domain(resolver: Resolver) -> None:
    credential = resolver.resolve(AssetQuery(asset_name="dc-09.ad.example.org", domain="corp"))
    assert credential.password.get_secret_value() == DC09_CORP


def test_domain_map_applies_to_the_short_names_domain(server: DevServer, tmp_path: Path) -> None:
    provider = make_provider(server, tmp_path, domain_map={"ad.example.org": "CORP"})
    with Resolver([ChainEntry("windows", provider)]) as resolver:
        credential = resolver.resolve(AssetQuery(asset_name="dc-09.ad.example.org"))
    assert credential.password.get_secret_value() == DC09_CORP


def test_a_secret_with_no_domain_is_not_taken_by_a_short_name(resolver: Resolver) -> None:
    with pytest.raises(CredentialNotFound):
        resolver.resolve(AssetQuery(asset_name="dc-10.corp.example.com"))


def test_full_names_take_a_machine_secret_whatever_its_domain(resolver: Resolver) -> None:
    assert resolver.resolve(AssetQuery(asset_name="DC-10")).password.get_secret_value() == (
        DC10_NODOMAIN
    )
    # the asset name as given, even with a hint of another domain
    credential = resolver.resolve(AssetQuery(asset_name="dc-09", domain="EVIL"))
    assert credential.password.get_secret_value() == DC09_CORP


def test_the_trace_says_why_a_short_name_match_was_refused(resolver: Resolver) -> None:
    reason = resolver.explain(AssetQuery(asset_name="dc-09.evil.example.net")).steps[0].reason
    assert (
        "rule machine: refused secret 701 for the short name dc-09: it is of domain CORP, "
        "the short name is a machine of EVIL" in reason
    )
    assert "refused secret 702 for the short name dc-09: it is of domain LAB" in reason
    reason = resolver.explain(AssetQuery(asset_name="dc-10.corp.example.com")).steps[0].reason
    assert "refused secret 703 for the short name dc-10: it has no domain" in reason


def test_a_refused_machine_secret_leaves_the_other_rules(server: DevServer, tmp_path: Path) -> None:
    provider = make_provider(server, tmp_path, username="svc-scan", fallback_to_local=True)
    with Resolver([ChainEntry("windows", provider)]) as resolver:
        credential = resolver.resolve(AssetQuery(asset_name="dc-09.evil.example.net"))
    assert credential.username == "svc-scan"
    assert credential.password.get_secret_value() == SVC_LOCAL


def test_candidates_leave_out_a_refused_machine_secret(server: DevServer, tmp_path: Path) -> None:
    provider = make_provider(server, tmp_path)
    try:
        listed = provider.candidates(AssetQuery(ip_address="dc-09.attacker.test"))
    finally:
        provider.close()
    assert listed == []


# -- the rule as a pure function, and its properties ---------------------------------------------


def test_a_full_name_takes_a_secret_of_any_domain_or_none() -> None:
    assert short_name_allows(MachineKey("dc-09.evil.example.net"), "CORP")
    assert short_name_allows(MachineKey("dc-09"), None)


def test_a_short_name_takes_only_its_domains_secrets() -> None:
    key = MachineKey("dc-09", frozenset({"EVIL"}))
    assert short_name_allows(key, "EVIL")
    assert not short_name_allows(key, "CORP")
    assert not short_name_allows(key, None)


def test_a_short_name_of_unknown_domain_takes_only_secrets_with_none() -> None:
    key = MachineKey("dc-09", frozenset())
    assert short_name_allows(key, None)
    assert not short_name_allows(key, "CORP")


def test_each_short_name_is_scoped_to_the_fqdn_it_was_cut_from() -> None:
    assert scoped_machine_keys(
        hint=None, asset_name="web-01.corp.example.com", ip_address="dc-09.attacker.test"
    ) == (
        MachineKey("web-01.corp.example.com"),
        MachineKey("dc-09.attacker.test"),
        MachineKey("web-01", frozenset({"CORP"})),
        MachineKey("dc-09", frozenset({"ATTACKER"})),
    )


def test_the_hint_scopes_every_short_name() -> None:
    keys = scoped_machine_keys(hint="lab", asset_name="dc-09.evil.example.net", ip_address=None)
    assert keys[1] == MachineKey("dc-09", frozenset({"LAB"}))


# Few letters, so that generated names collide with the secret's machine and domain often.
labels = st.from_regex(r"[a-cA-C][a-c0-9-]{0,2}", fullmatch=True)
dns_names = st.lists(labels, min_size=1, max_size=3).map(".".join)
domain_maps = st.dictionaries(dns_names.map(str.lower), labels.map(str.upper), max_size=3)
ipv4 = st.ip_addresses(v=4).map(str)


@st.composite
def machine_secrets(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    """A machine secret's (machine, domain as compared) and the settings' ``domain_map``."""
    domain_map = draw(domain_maps)
    written = draw(st.one_of(labels, dns_names))
    domain = normalize_domain(written, domain_map)
    assume(domain)
    return draw(labels), domain, domain_map


def _fqdn_or_ip(data: st.DataObject, machine: str) -> str | None:
    """An FQDN (often of a host called ``machine``, in any case), an IP address, or nothing."""
    host = data.draw(st.sampled_from([machine, machine.upper(), data.draw(labels)]))
    fqdn = f"{host}.{data.draw(dns_names)}"
    return data.draw(st.sampled_from([fqdn, data.draw(ipv4), None]))


def _domains_of(query: AssetQuery, domain_map: dict[str, str]) -> set[str]:
    """Every domain the query places the asset in: its hint and its FQDNs' suffixes."""
    found = {normalize_domain(query.domain, domain_map)} if query.domain else set()
    for name in (query.asset_name, query.ip_address):
        if name and "." in name and not is_ip_address(name):
            found.add(normalize_domain(name.split(".", 1)[1], domain_map))
    return found


def _gets(query: AssetQuery, machine: str, domain: str, domain_map: dict[str, str]) -> bool:
    """Whether some key of ``query`` takes the machine secret (the search matches any case)."""
    keys = scoped_machine_keys(
        hint=query.domain,
        asset_name=query.asset_name,
        ip_address=query.ip_address,
        domain_map=domain_map,
    )
    return any(
        key.text.casefold() == machine.casefold() and short_name_allows(key, domain) for key in keys
    )


@settings(max_examples=200, deadline=None)
@given(secret=machine_secrets(), data=st.data())
def test_no_asset_outside_a_domain_gets_a_machine_secret_of_that_domain(
    secret: tuple[str, str, dict[str, str]], data: st.DataObject
) -> None:
    machine, domain, domain_map = secret
    asset_name = _fqdn_or_ip(data, machine)
    ip_address = _fqdn_or_ip(data, machine)
    hint = data.draw(st.one_of(st.none(), labels, dns_names))
    assume(asset_name or ip_address)
    query = AssetQuery(asset_name=asset_name, ip_address=ip_address, domain=hint)
    assume(domain not in _domains_of(query, domain_map))
    assert not _gets(query, machine, domain, domain_map)


@settings(max_examples=200, deadline=None)
@given(secret=machine_secrets(), tail=dns_names, ip=st.one_of(st.none(), ipv4), data=st.data())
def test_an_fqdn_of_the_secrets_domain_gets_it_by_its_short_name(
    secret: tuple[str, str, dict[str, str]], tail: str, ip: str | None, data: st.DataObject
) -> None:
    machine, domain, domain_map = secret
    written = [domain.lower(), f"{domain.lower()}.{tail}", *domain_map, f"{tail}.{tail}"]
    inside = [name for name in written if normalize_domain(name, domain_map) == domain]
    assume(inside)
    suffix = data.draw(st.sampled_from(inside))
    query = AssetQuery(asset_name=f"{machine.upper()}.{suffix}", ip_address=ip)
    assert _gets(query, machine, domain, domain_map)


@settings(max_examples=200, deadline=None)
@given(
    asset_name=st.one_of(st.none(), labels, dns_names, ipv4),
    ip_address=st.one_of(st.none(), labels, dns_names, ipv4),
    hint=st.one_of(st.none(), labels),
    domain_map=domain_maps,
)
def test_scoped_keys_are_the_machine_keys_in_order(
    asset_name: str | None, ip_address: str | None, hint: str | None, domain_map: dict[str, str]
) -> None:
    scoped = scoped_machine_keys(
        hint=hint, asset_name=asset_name, ip_address=ip_address, domain_map=domain_map
    )
    assert tuple(key.text for key in scoped) == machine_keys(asset_name, ip_address)
    if asset_name:
        assert scoped[0].short_in is None  # the asset's name as given is always a full name
