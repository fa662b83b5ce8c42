"""resolve_many: bounded, lazy, single-flight, cached; every asset gets a Resolution."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from credchain import AssetQuery, ChainEntry, Resolver, SafeCredential
from credchain.errors import ChainDisabled, CredentialNotFound, ProviderUnavailable, QueryError
from credchain.hookspecs import hookimpl
from credchain.scan import Scan


class CountingProvider:
    """Finds hosts named ``h*``; counts lookups and the most that ran at once."""

    def __init__(self, delay: float = 0.0, fail: str | None = None) -> None:
        self.delay = delay
        self.fail = fail
        self.calls: dict[str, int] = {}
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    @hookimpl
    def credchain_lookup(self, query: AssetQuery) -> str | None:
        name = query.label()
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.delay)
            if name == self.fail:
                raise ProviderUnavailable("vault down")
            return name if name.startswith("h") else None
        finally:
            with self.lock:
                self.running -= 1

    @hookimpl
    def credchain_extract_credentials(self, record: str) -> SafeCredential:
        return SafeCredential(username=record, password=SecretStr("pw"))


def queries(names: list[str]) -> list[AssetQuery]:
    return [AssetQuery(asset_name=n) for n in names]


def test_every_query_gets_a_resolution_with_its_index() -> None:
    resolver = Resolver([ChainEntry("p", CountingProvider())])
    names = [f"h{i}" for i in range(50)] + ["x1", "x2"]
    results = list(resolver.resolve_many(queries(names), concurrency=4))
    assert sorted(r.index for r in results) == list(range(52))
    by_index = {r.index: r for r in results}
    assert all(by_index[i].query == AssetQuery(asset_name=n) for i, n in enumerate(names))
    assert by_index[0].credential is not None and by_index[0].outcome == "found"
    assert by_index[0].source == "p"
    assert by_index[50].outcome == "not_found"
    assert isinstance(by_index[50].error, CredentialNotFound)


def test_concurrency_is_bounded() -> None:
    provider = CountingProvider(delay=0.01)
    resolver = Resolver([ChainEntry("p", provider)])
    list(resolver.resolve_many(queries([f"h{i}" for i in range(40)]), concurrency=3))
    assert provider.most <= 3
    assert provider.most >= 2


def test_identical_queries_share_one_walk() -> None:
    provider = CountingProvider(delay=0.05)
    resolver = Resolver([ChainEntry("p", provider)])
    results = list(resolver.resolve_many(queries(["h1"] * 10 + ["h2"] * 5), concurrency=8))
    assert provider.calls == {"h1": 1, "h2": 1}
    assert sum(r.cached for r in results) == 13


def test_answers_are_cached_for_the_ttl() -> None:
    now = [0.0]
    provider = CountingProvider()
    resolver = Resolver([ChainEntry("p", provider)])
    scan = Scan(resolver._answer, concurrency=1, cache_ttl=10, clock=lambda: now[0])
    list(scan.run(queries(["h1", "h1"])))
    assert provider.calls == {"h1": 1}
    now[0] = 11
    list(scan.run(queries(["h1"])))
    assert provider.calls == {"h1": 2}


def test_not_found_is_cached_only_with_negative_ttl() -> None:
    provider = CountingProvider()
    resolver = Resolver([ChainEntry("p", provider)])
    list(resolver.resolve_many(queries(["x", "x"]), concurrency=1))
    assert provider.calls == {"x": 2}
    provider.calls.clear()
    list(resolver.resolve_many(queries(["x", "x"]), concurrency=1, negative_ttl=60))
    assert provider.calls == {"x": 1}


def test_failures_are_never_cached_and_do_not_stop_the_scan() -> None:
    provider = CountingProvider(fail="hbad")
    resolver = Resolver([ChainEntry("p", provider)])
    results = list(resolver.resolve_many(queries(["hbad", "hbad", "h1"]), concurrency=1))
    assert provider.calls["hbad"] == 2
    outcomes = sorted((r.index, r.outcome) for r in results)
    assert outcomes == [(0, "unavailable"), (1, "unavailable"), (2, "found")]


def test_cache_size_is_bounded() -> None:
    resolver = Resolver([ChainEntry("p", CountingProvider())])
    scan = resolver.scan(concurrency=2, cache_size=10)
    list(scan.run(queries([f"h{i}" for i in range(100)])))
    assert len(scan._cache) == 10


def test_input_is_read_lazily() -> None:
    read = [0]
    done = [0]
    ahead: list[int] = []

    def source() -> Iterator[AssetQuery]:
        for i in range(500):
            read[0] += 1
            ahead.append(read[0] - done[0])
            yield AssetQuery(asset_name=f"h{i}")

    resolver = Resolver([ChainEntry("p", CountingProvider())])
    for _ in resolver.resolve_many(source(), concurrency=4):
        done[0] += 1
    assert done[0] == 500
    assert max(ahead) <= 2 * 4 + 1


def test_progress_is_called_for_each() -> None:
    seen: list[int] = []
    resolver = Resolver([ChainEntry("p", CountingProvider())])
    list(resolver.resolve_many(queries(["h1", "h2", "x"]), progress=lambda n, r: seen.append(n)))
    assert seen == [1, 2, 3]


def test_malformed_query_in_input_is_a_resolution_not_a_crash() -> None:
    resolver = Resolver([ChainEntry("p", CountingProvider())])
    results = list(resolver.resolve_many([{"asset_name": "h1"}, {"hostname": "x"}]))
    bad = next(r for r in results if r.index == 1)
    assert isinstance(bad.error, QueryError) and bad.query is None


def test_disabled_resolver_refuses_a_scan() -> None:
    with pytest.raises(ChainDisabled):
        Resolver([ChainEntry("p", CountingProvider())], enabled=False).resolve_many([])


def test_cached_answers_only_from_the_cache() -> None:
    provider = CountingProvider()
    scan = Resolver([ChainEntry("p", provider)]).scan(cache_ttl=60)
    query = AssetQuery(asset_name="h1")
    assert scan.cached(query) is None
    first = scan.answer(query)
    again = scan.cached(query, 7)
    assert again is not None and again.cached and again.index == 7
    assert again.credential == first.credential and first.trace is not None
    assert provider.calls == {"h1": 1}
