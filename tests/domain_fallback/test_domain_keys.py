"""Machine keys and the asset's domain: pure functions, examples and properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from credchain_domain_fallback.keys import (
    asset_domain,
    is_ip_address,
    machine_keys,
    normalize_domain,
    short_name,
)

label = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
fqdn = st.lists(label, min_size=2, max_size=5).map(".".join)
ipv4 = st.ip_addresses(v=4).map(str)
name = st.one_of(label, fqdn, ipv4, st.none())


def test_keys_of_an_fqdn_and_an_ip_in_order() -> None:
    assert machine_keys("web-01.corp.example.com", "10.0.0.5") == (
        "web-01.corp.example.com",
        "web-01",
        "10.0.0.5",
    )


def test_host_name_in_ip_address_comes_after_the_asset_name() -> None:
    assert machine_keys("web-01", "web-01.corp.example.com.") == (
        "web-01",
        "web-01.corp.example.com",
    )


def test_duplicate_keys_are_dropped_whatever_their_case() -> None:
    assert machine_keys("WEB-01.corp", "web-01.CORP") == ("WEB-01.corp", "WEB-01")


def test_ipv6_is_an_address_not_a_host() -> None:
    assert machine_keys(None, "fe80::1") == ("fe80::1",)
    assert short_name("fe80::1") is None


def test_domain_precedence_hint_then_suffix_then_default() -> None:
    def domain(**kwargs: str | None) -> str | None:
        base: dict[str, str | None] = {
            "hint": None,
            "asset_name": None,
            "ip_address": None,
            "default_domain": None,
        }
        return asset_domain(**{**base, **kwargs}).name  # type: ignore[arg-type]

    assert domain(hint="lab", asset_name="a.corp.example.com", default_domain="X") == "LAB"
    assert domain(asset_name="a.corp.example.com", default_domain="X") == "CORP"
    assert domain(ip_address="b.dmz.example.com", default_domain="X") == "DMZ"
    assert domain(asset_name="a", ip_address="10.0.0.1", default_domain="x") == "X"
    assert domain(asset_name="a") is None


def test_domain_map_takes_the_longest_matching_suffix() -> None:
    mapping = {"example.com": "EX", "corp.example.com": "CORP"}
    assert normalize_domain("eu.corp.example.com", mapping) == "CORP"
    assert normalize_domain("lab.example.com", mapping) == "EX"
    assert normalize_domain("notexample.com", mapping) == "NOTEXAMPLE"


@given(name, name)
def test_keys_are_unique_ignoring_case_and_asset_name_first(a: str | None, b: str | None) -> None:
    keys = machine_keys(a, b)
    folded = [key.casefold() for key in keys]
    assert len(folded) == len(set(folded))
    if a is not None:
        assert keys[0].casefold() == a.rstrip(".").casefold()
    assert all(key for key in keys)


@given(fqdn)
def test_short_name_is_the_first_label(host: str) -> None:
    short = short_name(host)
    assert short == host.split(".")[0]
    assert short in machine_keys(host, None)


@given(ipv4, name)
def test_an_ip_address_is_always_a_key_and_never_gives_a_domain(ip: str, other: str | None) -> None:
    assert ip in machine_keys(other, ip)
    assert is_ip_address(ip)
    found = asset_domain(hint=None, asset_name=ip, ip_address=None, default_domain=None)
    assert found.name is None


@given(st.one_of(label, fqdn))
def test_normalize_domain_is_idempotent_and_upper_case(value: str) -> None:
    once = normalize_domain(value)
    assert once == once.upper()
    assert "." not in once
    assert normalize_domain(once) == once
