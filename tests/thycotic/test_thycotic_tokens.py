"""One token per process: reused, renewed before expiry, refreshed, recovered after revocation."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from thycotic_helpers import FakeClock, MakeResolver

from credchain import AssetQuery
from credchain.devserver import DevServer

WEB = AssetQuery(asset_name="web-01.corp.example.com")
Factory = Callable[..., DevServer]


def add_assets(server: DevServer, count: int) -> list[str]:
    names = [f"host-{i:04d}.lab" for i in range(count)]
    for name in names:
        server.add_secret(name, {"username": "u", "password": f"pw-{name}"})
    return names


def test_one_grant_for_200_assets_across_threads(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    names = add_assets(secret_server, 200)
    resolver = make_resolver(secret_server)
    with ThreadPoolExecutor(16) as pool:
        found = list(pool.map(lambda n: resolver.resolve(AssetQuery(asset_name=n)), names))
    assert [c.password.get_secret_value() for c in found] == [f"pw-{n}" for n in names]
    stats = secret_server.get_stats()
    assert stats["grants"] == {"password": 1, "refresh_token": 0, "client_credentials": 0}
    assert stats["requests"]["GET api/v1/secrets"] == 200
    assert sum(stats["requests"].values()) == 201  # one search per asset, one token


def test_token_renewed_by_refresh_before_expiry(
    secret_server_factory: Factory, make_resolver: MakeResolver
) -> None:
    clock = FakeClock()
    server = secret_server_factory(token_ttl=600, clock=clock)
    resolver = make_resolver(server, clock=clock)
    resolver.resolve(WEB)
    clock.advance(590)  # inside the renewal margin, before expiry
    resolver.resolve(WEB)
    assert server.get_stats()["grants"] == {
        "password": 1,
        "refresh_token": 1,
        "client_credentials": 0,
    }


def test_short_token_is_still_reused(
    secret_server_factory: Factory, make_resolver: MakeResolver
) -> None:
    clock = FakeClock()
    server = secret_server_factory(token_ttl=20, clock=clock)
    resolver = make_resolver(server, clock=clock)
    for _ in range(5):
        resolver.resolve(WEB)
        clock.advance(3)
    assert server.get_stats()["grants"]["password"] == 1


def test_expired_token_mid_run_without_refresh_tokens(
    secret_server_factory: Factory, make_resolver: MakeResolver
) -> None:
    clock = FakeClock()
    server = secret_server_factory(token_ttl=60, refresh_tokens=False, clock=clock)
    resolver = make_resolver(server, clock=clock)
    resolver.resolve(WEB)
    clock.advance(61)
    resolver.resolve(WEB)
    assert server.get_stats()["grants"] == {
        "password": 2,
        "refresh_token": 0,
        "client_credentials": 0,
    }


def test_token_expired_on_the_server_early_gets_one_new_grant_and_one_retry(
    secret_server_factory: Factory, make_resolver: MakeResolver
) -> None:
    server_clock, client_clock = FakeClock(), FakeClock()
    server = secret_server_factory(token_ttl=60, clock=server_clock)
    resolver = make_resolver(server, clock=client_clock)
    resolver.resolve(WEB)
    server_clock.advance(120)  # the client still thinks its token is fresh
    server.reset_stats()
    assert resolver.resolve(WEB).username == "svc-scan"
    stats = server.get_stats()
    assert stats["grants"]["password"] == 1
    assert stats["requests"]["GET api/v1/secrets"] == 2


def test_recovers_from_revoked_tokens_with_one_grant_across_threads(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    names = add_assets(secret_server, 64)
    resolver = make_resolver(secret_server)
    resolver.resolve(WEB)
    secret_server.revoke_tokens()
    secret_server.reset_stats()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: resolver.resolve(AssetQuery(asset_name=n)), names))
    grants = secret_server.get_stats()["grants"]
    assert grants["password"] == 1 and grants["refresh_token"] == 0


def test_revoke_fault_mid_run(secret_server: DevServer, make_resolver: MakeResolver) -> None:
    resolver = make_resolver(secret_server)
    resolver.resolve(WEB)
    secret_server.add_fault("revoke-tokens:GET api/v1/secrets:count=1")
    assert resolver.resolve(WEB).username == "svc-scan"
    assert secret_server.get_stats()["grants"]["password"] == 2
