"""One retry layer, and counts that tell the truth: what a provider reports, the vault got."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from thycotic_helpers import MakeResolver

from credchain import AssetQuery, Resolver
from credchain.devserver import DEMO_ASSETS, DevServer
from credchain.errors import TokenExpired
from credchain_thycotic import ThycoticProvider

WEB = AssetQuery(asset_name="web-01.corp.example.com")
SEARCH, TOKEN = "GET api/v1/secrets", "POST oauth2/token"
#: the provider's request kinds, as the dev server's route keys
ROUTES = {
    "search": SEARCH,
    "token": TOKEN,
    "get": "GET api/v1/secrets/{id}",
    "restricted": "POST api/v1/secrets/{id}/restricted",
}


@dataclass
class Warm:
    """A resolver that already holds its token, and what its provider had counted by then."""

    resolver: Resolver
    before: dict[str, int] = field(default_factory=dict)

    @property
    def provider(self) -> ThycoticProvider:
        provider = self.resolver.chain[0].provider
        assert isinstance(provider, ThycoticProvider)
        return provider

    def sent(self) -> dict[str, int]:
        """What the provider reports it sent since warming up, as the server's route keys."""
        now = self.provider.vault_requests()
        delta = {kind: count - self.before.get(kind, 0) for kind, count in now.items()}
        return {ROUTES[kind]: count for kind, count in delta.items() if count}


def served(server: DevServer) -> dict[str, int]:
    return {route: n for route, n in server.get_stats()["requests"].items() if n}


@pytest.fixture
def warm(secret_server: DevServer, make_resolver: MakeResolver) -> Callable[..., Warm]:
    """``warm(**settings)``: a resolver that holds a token; the server's counters at zero."""

    def make(**settings: object) -> Warm:
        resolver = make_resolver(secret_server, token_cache=False, **settings)
        resolver.resolve(WEB)
        warmed = Warm(resolver)
        warmed.before = dict(warmed.provider.vault_requests())
        secret_server.reset_stats()
        return warmed

    return make


def test_a_revoked_token_costs_one_grant_and_two_searches(
    secret_server: DevServer, warm: Callable[..., Warm]
) -> None:
    resolver = warm().resolver
    secret_server.revoke_tokens()
    assert resolver.resolve(WEB).username == "svc-scan"
    assert served(secret_server) == {SEARCH: 2, TOKEN: 1}
    assert secret_server.get_stats()["grants"]["password"] == 1


def test_a_route_that_revokes_every_token_is_retried_once_then_fails(
    secret_server: DevServer, warm: Callable[..., Warm]
) -> None:
    resolver = warm().resolver
    secret_server.add_fault("revoke-tokens:api/v1/secrets")
    with pytest.raises(TokenExpired, match="refused a fresh token"):
        resolver.resolve(WEB)
    assert served(secret_server) == {SEARCH: 2, TOKEN: 1}


def test_the_provider_counts_what_the_server_received(
    secret_server: DevServer, warm: Callable[..., Warm]
) -> None:
    warmed = warm()
    secret_server.revoke_tokens()
    warmed.resolver.resolve(WEB)
    assert warmed.sent() == served(secret_server)


def test_urllib3_retries_are_counted_too(
    secret_server: DevServer, warm: Callable[..., Warm]
) -> None:
    warmed = warm(retries=3)
    secret_server.add_fault("500:api/v1/secrets:count=2")
    assert warmed.resolver.resolve(WEB).username == "svc-scan"
    assert served(secret_server) == {SEARCH: 3}
    assert warmed.sent() == {SEARCH: 3}


def test_counts_hold_for_200_assets_over_16_threads_with_faults(
    secret_server: DevServer, warm: Callable[..., Warm]
) -> None:
    warmed = warm(retries=2)
    names = [a.fqdn for a in DEMO_ASSETS] + [f"unknown-{i:03d}.example" for i in range(170)]
    for spec in (
        "500:api/v1/secrets:rate=0.1",
        "503:api/v1/secrets:rate=0.1,retry_after=0",
        "reset:api/v1/secrets:rate=0.05",
        "revoke-tokens:api/v1/secrets:count=3",
    ):
        secret_server.add_fault(spec)
    queries = (AssetQuery(asset_name=n) for n in names)
    results = list(warmed.resolver.resolve_many(queries, concurrency=16))
    assert len(results) == 200
    assert warmed.sent() == served(secret_server)
    assert served(secret_server)[SEARCH] >= 200
