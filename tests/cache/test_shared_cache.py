"""The shared cache's rules, on an in-process backend: sealed values, hashed names, leases,
one warning per outage. (Real Redis and real processes: test_redis_cluster.py.)"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from credchain.cache import Cache, CacheUnavailable, SharedTokens
from credchain.cache._sealing import Sealer
from credchain.cache.backends.memory import MemoryBackend
from credchain.secretstore import SecretStore
from credchain.tokens import AccessToken


def sealer(home: Path) -> Sealer:
    store = SecretStore(home)
    return Sealer(lambda: (store.derive("cache names v1"), store.derive("cache values v1")))


class Flaky(MemoryBackend):
    """A memory backend that can be switched off, as Redis going down."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls = 0

    def get(self, name: str) -> bytes | None:
        self.calls += 1
        if self.down:
            raise CacheUnavailable("ConnectionError: refused")
        return super().get(name)

    def add(self, name: str, value: bytes, ttl: float) -> bool:
        if self.down:
            raise CacheUnavailable("ConnectionError: refused")
        return super().add(name, value, ttl)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_names_are_keyed_hashes_of_what_they_stand_for(home: Path) -> None:
    cache = Cache(MemoryBackend(), sealer(home))
    name = cache.name("answer", b"web-01.example.com")
    assert name.startswith("credchain:") and len(name) == len("credchain:") + 64
    assert "web-01" not in name
    assert name == Cache(MemoryBackend(), sealer(home)).name("answer", b"web-01.example.com")


def test_another_key_file_names_entries_differently(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    assert Cache(MemoryBackend(), sealer(one)).name("answer", b"a") != Cache(
        MemoryBackend(), sealer(two)
    ).name("answer", b"a")


def test_a_value_is_stored_sealed_and_read_back_plain(home: Path) -> None:
    backend = MemoryBackend()
    cache = Cache(backend, sealer(home))
    cache.put("answer", b"web-01", b"planted-secret-Zq9", 60)
    raw = backend.get(cache.name("answer", b"web-01"))
    assert raw is not None and b"planted-secret-Zq9" not in raw
    assert cache.get("answer", b"web-01") == b"planted-secret-Zq9"


def test_a_tampered_value_is_discarded_and_logged(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = MemoryBackend()
    cache = Cache(backend, sealer(home))
    cache.put("answer", b"web-01", b"planted-secret-Zq9", 60)
    name = cache.name("answer", b"web-01")
    raw = bytearray(backend.get(name) or b"")
    raw[-1] ^= 1
    backend.set(name, bytes(raw), 60)
    with caplog.at_level(logging.WARNING):
        assert cache.get("answer", b"web-01") is None
    assert "does not decrypt" in caplog.text and "planted" not in caplog.text
    assert backend.get(name) is None and cache.discarded == 1


def test_a_value_moved_under_another_name_does_not_open(home: Path) -> None:
    backend = MemoryBackend()
    cache = Cache(backend, sealer(home))
    cache.put("answer", b"web-01", b"for web-01", 60)
    backend.set(
        cache.name("answer", b"web-02"), backend.get(cache.name("answer", b"web-01")) or b"", 60
    )
    assert cache.get("answer", b"web-02") is None


def test_one_of_many_claimants_fetches_and_the_others_get_its_value(home: Path) -> None:
    cache = Cache(MemoryBackend(), sealer(home), lock_wait=60)
    fetched: list[int] = []
    results: list[bytes] = []
    start = threading.Barrier(6)

    def claimant(index: int) -> None:
        start.wait()
        found, lease = cache.claim("answer", b"web-01", lambda plain, _w: plain)
        if found is None:
            assert lease.held
            fetched.append(index)
            cache.put("answer", b"web-01", b"the answer", 60)
            lease.release()
            found = b"the answer"
        results.append(found)

    threads = [threading.Thread(target=claimant, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fetched) == 1 and results == [b"the answer"] * 6


def test_a_claimant_that_waits_in_vain_fetches_it_itself(home: Path) -> None:
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.now += seconds

    cache = Cache(MemoryBackend(), sealer(home), lock_wait=5, clock=clock, sleep=sleep)
    _, leader = cache.claim("token", b"acct", lambda plain, _w: plain)
    found, lease = cache.claim("token", b"acct", lambda plain, _w: plain)
    assert leader.held and found is None and not lease.held


def test_an_outage_is_one_warning_and_no_wait_until_the_retry(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    backend = Flaky()
    cache = Cache(backend, sealer(home), retry_after=5, clock=clock)
    backend.down = True
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            found, lease = cache.claim("answer", b"web-01", lambda plain, _w: plain)
            assert found is None and not lease.held
    assert caplog.text.count("is unavailable") == 1
    assert backend.calls == 1  # the others skipped it
    backend.down = False
    clock.now += 5
    with caplog.at_level(logging.WARNING):
        _, lease = cache.claim("answer", b"web-01", lambda plain, _w: plain)
    assert lease.held and "is back" in caplog.text and cache.outages == 1


def test_shared_tokens_hand_a_stored_token_to_another_process(home: Path) -> None:
    backend = MemoryBackend()
    clock = Clock()
    mine = SharedTokens(Cache(backend, sealer(home)), "acct", clock=clock)
    theirs = SharedTokens(Cache(backend, sealer(home)), "acct", clock=clock)
    token = AccessToken("tok-1", expires_at=clock.now + 600, renew_at=clock.now + 540)
    assert mine.obtain(None, lambda: token) is token
    assert theirs.obtain(None, lambda: pytest.fail("a second grant")) == token


def test_a_refused_shared_token_is_replaced_not_handed_out_again(home: Path) -> None:
    backend = MemoryBackend()
    clock = Clock()
    share = SharedTokens(Cache(backend, sealer(home)), "acct", clock=clock)
    old = AccessToken("tok-1", expires_at=clock.now + 600, renew_at=clock.now + 540)
    new = AccessToken("tok-2", expires_at=clock.now + 600, renew_at=clock.now + 540)
    share.store(old)
    assert share.obtain(old, lambda: new) is new
    assert share.current() == new


def test_a_token_due_for_renewal_is_not_shared(home: Path) -> None:
    clock = Clock()
    share = SharedTokens(Cache(MemoryBackend(), sealer(home)), "acct", clock=clock)
    share.store(AccessToken("tok-1", expires_at=clock.now + 600, renew_at=clock.now + 540))
    clock.now += 541
    assert share.current() is None
