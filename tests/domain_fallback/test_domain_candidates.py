"""Test settings: ``candidates`` lists what would be tried, in order, and reads no password."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from domain_helpers import ALL_SECRETS, DATASET, make_provider

from credchain import AssetQuery
from credchain.devserver import DevServer
from credchain.provider import Candidate
from credchain.testing.secrets import assert_no_secrets


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(data=DATASET) as running:
        yield running


def test_candidates_in_rule_order(server: DevServer, tmp_path: Path) -> None:
    provider = make_provider(server, tmp_path, username="svc-scan", fallback_to_local=True)
    listed = provider.candidates(
        AssetQuery(asset_name="web-01.corp.example.com", ip_address="10.0.0.5")
    )
    assert listed == [
        Candidate("machine (web-01)", 102, "web-01 svc-scan", "svc-scan"),
        Candidate("domain (CORP\\svc-scan)", 201, "CORP svc-scan", "CORP\\svc-scan"),
        Candidate("domain (CORP\\svc-scan)", 208, "A copy of CORP svc-scan", "CORP\\svc-scan"),
        Candidate("domain (CORP\\svc-scan)", 300, "CORP svc-scan tier0", "CORP\\svc-scan"),
        Candidate("local (svc-scan)", 205, "svc-scan (local)", "svc-scan"),
    ]
    provider.close()


def test_candidates_without_username_list_every_key(server: DevServer, tmp_path: Path) -> None:
    provider = make_provider(server, tmp_path)
    listed = provider.candidates(
        AssetQuery(asset_name="web-01.corp.example.com", ip_address="10.0.0.5")
    )
    assert [(c.rule, c.secret_id) for c in listed] == [
        ("machine (web-01.corp.example.com)", 101),
        ("machine (web-01)", 102),
        ("machine (10.0.0.5)", 103),
        ("domain (CORP)", 201),
        ("domain (CORP)", 203),
        ("domain (CORP)", 208),
        ("domain (CORP)", 210),
        ("domain (CORP)", 300),
    ]
    provider.close()


def test_first_candidate_is_what_resolve_returns(server: DevServer, tmp_path: Path) -> None:
    from credchain import ChainEntry, Resolver

    provider = make_provider(server, tmp_path, username="svc-backup", fallback_to_local=True)
    query = AssetQuery(asset_name="ws-9.lab.example.com")
    first = provider.candidates(query)[0]
    with Resolver([ChainEntry("windows", provider)]) as resolver:
        credential = resolver.resolve(query)
    assert (first.rule, first.secret_id) == ("local (svc-backup)", 206)
    assert credential.detail is not None and credential.detail.startswith("rule local (svc-backup)")


def test_candidates_never_read_a_password(
    server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    provider = make_provider(
        server, tmp_path, username="break-glass", privilege_password_field="Privilege Password"
    )
    asked: list[list[str]] = []
    search = provider.client.search

    def spy(text: str, **kwargs: object) -> object:
        asked.append(list(kwargs["extended_fields"]))  # type: ignore[call-overload]
        return search(text, **kwargs)  # type: ignore[arg-type]

    provider.client.search = spy  # type: ignore[method-assign]
    server.reset_stats()
    listed = provider.candidates(AssetQuery(asset_name="db-01.lab.example.com"))
    listed += provider.candidates(AssetQuery(asset_name="ws-9.lab.example.com"))
    # both assets are in LAB; 106 (db-01's machine secret) is svc-scan's, not break-glass's
    assert [c.secret_id for c in listed] == [211, 211]
    assert all(fields == ["Machine", "Domain", "Username"] for fields in asked)
    requests = server.get_stats()["requests"]
    assert set(requests) <= {"POST oauth2/token", "GET api/v1/secrets"}
    assert_no_secrets(repr(listed) + str(listed) + caplog.text, ALL_SECRETS)
    provider.close()


def test_candidates_for_an_asset_with_none(server: DevServer, tmp_path: Path) -> None:
    provider = make_provider(server, tmp_path, username="nobody", fallback_to_local=True)
    assert provider.candidates(AssetQuery(asset_name="ws-9.corp.example.com")) == []
    provider.close()
