"""Inventory prefetch: one listing instead of a search per asset, and the same answers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner
from thycotic_helpers import FakeClock, settings_for

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.cli import main
from credchain.devserver import Dataset, DevServer
from credchain.provider import Prefetches, ProviderContext
from credchain_thycotic import ThycoticProvider

SCAN_ACCOUNT = 6100
ASSETS = 300


def _secret(name: str, machine: str, i: int, **flags: Any) -> dict[str, Any]:
    items = {"machine": machine, "username": f"svc-{i}", "password": f"pw-{i}"}
    if i % 7 == 0:
        items["privilege-password"] = f"root-{i}"
    return {"name": name, "templateId": SCAN_ACCOUNT, "items": items, **flags}


def _dataset() -> Dataset:
    """300 assets' secrets: plain ones, ones that need a comment or a check-out, duplicated
    names, names that contain others, empty passwords; and some assets with no secret."""
    secrets = []
    for i in range(ASSETS):
        name = f"host-{i:03d}.corp.example.com"
        flags: dict[str, Any] = {}
        if i % 10 == 1:
            flags["requiresComment"] = True
        if i % 10 == 2:
            flags["checkOutEnabled"] = True
        if i % 10 == 9:
            continue  # no secret for this asset
        secrets.append(_secret(name, name.upper(), i, **flags))
        if i % 25 == 3:
            secrets.append(_secret(name, name, 1000 + i))  # the same name twice
        if i % 40 == 4:
            secrets.append(_secret(f"{name} root", f"{name} root", 2000 + i))  # contains it
        if i % 50 == 5:
            secrets.append(_secret(f"old {name}", name, 3000 + i, active=False))
    secrets.append({"name": "host-empty", "templateId": 2, "items": {"username": "u"}})
    return Dataset.model_validate({"secrets": secrets})


def _queries() -> list[AssetQuery]:
    queries = [AssetQuery(asset_name=f"HOST-{i:03d}.corp.example.com") for i in range(ASSETS)]
    return [*queries, AssetQuery(asset_name="host-empty"), AssetQuery(ip_address="10.0.0.1")]


@pytest.fixture(scope="module")
def vault() -> Iterator[DevServer]:
    with DevServer(data=_dataset()) as server:
        yield server


Make = Callable[..., ThycoticProvider]


@pytest.fixture
def make(vault: DevServer, tmp_path: Path) -> Iterator[Make]:
    made: list[ThycoticProvider] = []

    def build(clock: Callable[[], float] | None = None, **settings: Any) -> ThycoticProvider:
        values = {"token_cache": False, "comment": "credchain scan", **settings}
        # each its own entry: entries of one account share a session but count apart
        entry = f"vault-{len(made)}"
        context = ProviderContext(entry, tmp_path, **({"clock": clock} if clock else {}))
        provider = ThycoticProvider(settings_for(vault, **values), context)
        made.append(provider)
        return provider

    yield build
    for provider in made:
        provider.close()


def _scan(provider: ThycoticProvider, queries: list[AssetQuery]) -> dict[int, tuple[Any, ...]]:
    resolver = Resolver([ChainEntry("vault", provider, type="thycotic")])
    answers = {}
    for r in resolver.resolve_many(queries, concurrency=4, cache_ttl=0):
        safe = r.credential.to_safe_dict() if r.credential is not None else None
        answers[r.index] = (r.outcome, safe, None if r.error is None else str(r.error))
    return answers


MAPPINGS = {
    "by name, exact": {},
    "by name, contains, first": {"exact_match": False, "multiple_matches": "first"},
    "by machine field": {
        "mapping": {"thycotic_field": "Machine", "privilege_password_field": "Privilege Password"}
    },
    "by machine field, contains": {"mapping": {"thycotic_field": "machine"}, "exact_match": False},
}


@pytest.mark.parametrize("mapping", MAPPINGS.values(), ids=MAPPINGS.keys())
def test_prefetch_answers_every_asset_as_the_per_asset_search_does(
    make: Make, mapping: dict[str, Any]
) -> None:
    queries = _queries()
    searched = make(**mapping)
    prefetched = make(prefetch=True, prefetch_page_size=64, **mapping)

    per_asset = _scan(searched, queries)
    from_listing = _scan(prefetched, queries)

    assert from_listing == per_asset
    outcomes = {outcome for outcome, _, _ in per_asset.values()}
    assert {"found", "not_found", "error"} <= outcomes  # duplicates, empty fields
    sent = prefetched.vault_requests()
    assert "search" not in sent
    assert sent["list"] == -(-len(_dataset().secrets) // 64)  # the inactive ones are listed too
    assert searched.vault_requests()["search"] >= ASSETS
    # one by one still: the secrets that need a comment or a check-out
    assert prefetched.vault_requests()["restricted"] == searched.vault_requests()["restricted"]
    assert prefetched.vault_requests().get("get") == searched.vault_requests().get("get")


def test_the_listing_lives_for_the_scan_only(make: Make) -> None:
    provider = make(prefetch=True)
    resolver = Resolver([ChainEntry("vault", provider, type="thycotic")])
    assert isinstance(provider, Prefetches)
    list(resolver.resolve_many(_queries()[:20]))
    assert provider._prefetch.inventory() is None
    searches = provider.vault_requests().get("search", 0)
    resolver.resolve(_queries()[0])
    assert provider.vault_requests()["search"] == searches + 1


def test_an_entry_without_prefetch_lists_nothing(make: Make) -> None:
    provider = make()
    assert provider.prefetch() is None
    list(Resolver([ChainEntry("vault", provider)]).resolve_many(_queries()[:5]))
    assert "list" not in provider.vault_requests()


def test_more_secrets_than_the_bound_search_per_asset_with_one_warning(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    bounded = make(prefetch=True, prefetch_max_secrets=100, prefetch_page_size=50)
    with caplog.at_level(logging.WARNING):
        answers = _scan(bounded, _queries()[:40])
    assert answers == _scan(make(), _queries()[:40])
    warnings = [r for r in caplog.records if "prefetch" in r.getMessage()]
    assert len(warnings) == 1
    assert "prefetch_max_secrets = 100" in warnings[0].getMessage()
    assert bounded.vault_requests()["list"] == 1  # the first page's total was enough to know
    assert bounded.vault_requests()["search"] == 40


def test_a_failed_listing_searches_per_asset(
    make: Make, vault: DevServer, caplog: pytest.LogCaptureFixture
) -> None:
    provider = make(prefetch=True, retries=0)
    vault.add_fault("500:GET api/v1/secrets:count=1")
    try:
        with caplog.at_level(logging.WARNING):
            answers = _scan(provider, _queries()[:10])
    finally:
        vault.clear_faults()
    assert answers == _scan(make(), _queries()[:10])
    assert any("listing the secrets failed" in r.getMessage() for r in caplog.records)


def test_a_held_listing_is_read_again_after_its_ttl(make: Make, vault: DevServer) -> None:
    clock = FakeClock()
    provider = make(clock=clock, prefetch=True, prefetch_ttl=60)
    late = AssetQuery(asset_name="added-later.corp.example.com")
    resolver = Resolver([ChainEntry("vault", provider, type="thycotic")])
    handles = resolver.prefetch()
    try:
        vault.add_secret(
            "added-later.corp.example.com", {"username": "late", "password": "pw-late"}
        )
        assert resolver.explain(late).steps[0].outcome == "not_found"  # not in the listing yet
        clock.advance(61)
        assert resolver.resolve(late).username == "late"
        assert provider.vault_requests()["list"] == 2
        assert "search" not in provider.vault_requests()
    finally:
        for handle in handles:
            handle.release()
        vault.reset()


def test_resolve_inventory_uses_the_entry_s_prefetch(vault: DevServer, tmp_path: Path) -> None:
    table = {"type": "thycotic", "prefetch": True, "comment": "scan", "token_cache": False}
    config = tmp_path / "credchain.toml"
    config.write_text(
        tomli_w.dumps(
            {"chain": ["vault"], "providers": {"vault": {**table, **vault.thycotic_table()}}}
        )
    )
    config.chmod(0o600)
    inventory = tmp_path / "inv.jsonl"
    inventory.write_text("".join(json.dumps(q.to_query_data()) + "\n" for q in _queries()))
    vault.reset_stats()
    result = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(inventory)]
    )
    assert result.exit_code == 8, result.stderr  # the dataset's failing assets: lines failed
    served = {route: n for route, n in vault.get_stats()["requests"].items() if n}
    pages = -(-len(_dataset().secrets) // 500)
    assert served["GET api/v1/secrets"] == pages  # the listing, and no search per asset
    assert len(result.stdout.splitlines()) == len(_queries())
