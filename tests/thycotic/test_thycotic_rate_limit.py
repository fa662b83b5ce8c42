"""A scan of adaptive width against a dev server that throttles (real TLS on loopback).

Bounded loads; counts are asserted, never times.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from pathlib import Path

from thycotic_helpers import settings_for

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import DevServer
from credchain.hookspecs import hookimpl
from credchain.provider import ProviderContext
from credchain.scan import Scan
from credchain_thycotic import ThycoticProvider

Factory = Callable[..., DevServer]
SEARCH = "GET api/v1/secrets"


class InFlight:
    """A cross-cutting plugin: the most lookups that ran at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = 0

    @hookimpl(wrapper=True)
    def credchain_lookup(self) -> Generator[None, object, object]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return (yield)
        finally:
            with self.lock:
                self.running -= 1


def hosts(server: DevServer, count: int) -> list[AssetQuery]:
    for i in range(count):
        server.add_secret(f"rl-{i:03d}.example.com", {"username": f"u{i}", "password": "pw"})
    return [AssetQuery(asset_name=f"rl-{i:03d}.example.com") for i in range(count)]


def chain(server: DevServer, tmp_path: Path, *plugins: object) -> Resolver:
    settings = settings_for(server, retries=3, pool_size=16, token_cache=False)
    provider = ThycoticProvider(settings, ProviderContext("vault", tmp_path))
    return Resolver([ChainEntry("vault", provider, type="thycotic")], plugins=plugins)


def run(resolver: Resolver, queries: list[AssetQuery], **options: object) -> tuple[Scan, int]:
    """The scan and how many of its assets failed."""
    scan = resolver.scan(**options)  # type: ignore[arg-type]
    failed = sum(result.credential is None for result in scan.run(queries))
    return scan, failed


def test_a_rate_limited_scan_finishes_with_no_failure_and_few_429s(
    secret_server_factory: Factory, tmp_path: Path
) -> None:
    server = secret_server_factory(rate_limit=40)  # a burst of 40, then 40 a second
    queries = hosts(server, 120)
    with chain(server, tmp_path) as resolver:
        scan, failed = run(resolver, queries, concurrency="adaptive", max_concurrency=16)
    assert failed == 0
    stats = server.get_stats()
    throttled = stats["throttled"][server.admin_username]
    assert stats["requests"][SEARCH] == len(queries) + throttled  # each 429 retried, once
    assert scan.congestion.answers(429) == {"vault": throttled}
    # At most the width the burst ran out at (slow start), then a few in the steady state.
    assert throttled <= 16 + len(queries) // 4


def test_every_429_and_503_the_vault_sends_reaches_the_scan(
    secret_server_factory: Factory, tmp_path: Path
) -> None:
    server = secret_server_factory()
    queries = hosts(server, 12)
    server.add_fault(f"429:{SEARCH}:count=3,retry_after=0")
    server.add_fault(f"503:{SEARCH}:count=2,retry_after=0")
    with chain(server, tmp_path) as resolver:
        scan, failed = run(resolver, queries, concurrency="adaptive")
    assert failed == 0
    assert scan.congestion.answers(429) == {"vault": 3}
    assert scan.congestion.answers(503) == {"vault": 2}


def test_a_fixed_width_scan_counts_429s_too(secret_server_factory: Factory, tmp_path: Path) -> None:
    server = secret_server_factory()
    queries = hosts(server, 4)
    server.add_fault(f"429:{SEARCH}:count=2,retry_after=0")
    with chain(server, tmp_path) as resolver:
        scan, failed = run(resolver, queries, concurrency=2)
    assert failed == 0 and scan.width is None
    assert scan.congestion.answers(429) == {"vault": 2}


def test_max_concurrency_caps_the_walks_in_flight(
    secret_server_factory: Factory, tmp_path: Path
) -> None:
    server = secret_server_factory(latency_ms=20)
    queries = hosts(server, 30)
    in_flight = InFlight()
    with chain(server, tmp_path, in_flight) as resolver:
        scan, failed = run(resolver, queries, concurrency="adaptive", max_concurrency=3)
    assert failed == 0
    assert in_flight.most <= 3
    assert scan.width is not None and scan.width.peak <= 3


def test_a_429_past_the_retries_is_the_asset_failing_not_the_scan(
    secret_server_factory: Factory, tmp_path: Path
) -> None:
    server = secret_server_factory()
    queries = hosts(server, 3)
    server.add_fault(f"429:{SEARCH}:count=4,retry_after=0")  # the first asset's every attempt
    with chain(server, tmp_path) as resolver:
        scan, failed = run(resolver, queries, concurrency="adaptive", max_concurrency=1)
    assert failed == 1
    assert scan.congestion.answers(429) == {"vault": 4}
