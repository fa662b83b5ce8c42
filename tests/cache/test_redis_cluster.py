"""Many nodes, one vault, a real Redis: what ``[cache] backend = "redis"`` promises.

Each "node" is a home of its own holding the same ``secret.key`` (as docs/cluster.md says to
deploy), against the same dev Secret Server over TLS and a real ``redis-server``.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import tomli_w

from credchain import AssetQuery, Resolver
from credchain.devserver import DevServer
from credchain.devserver.datafile import Dataset, SecretSpec
from credchain.testing.cluster import ScanNode
from credchain.testing.redis import RedisServer
from credchain.testing.secrets import assert_no_secrets

COUNT = 40
NAMES = [f"planted-asset-{i:03d}.cluster.example" for i in range(COUNT)]
PASSWORDS = {name: f"planted-pw-{i:03d}-{secrets.token_hex(6)}" for i, name in enumerate(NAMES)}
#: seven digits: a shorter number could turn up in a hex name or ciphertext by chance
IDS = {name: 9_310_000 + i for i, name in enumerate(NAMES)}
QUERIES = [AssetQuery(asset_name=name) for name in NAMES]


@pytest.fixture(scope="module")
def vault() -> Iterator[DevServer]:
    data = Dataset(
        secrets=[
            SecretSpec(
                id=IDS[name],
                name=name,
                template_id=2,
                items={"resource": name, "username": "svc-scan", "password": PASSWORDS[name]},
            )
            for name in NAMES
        ]
    )
    with DevServer(data=data, latency_ms=5) as server:
        yield server


@pytest.fixture
def server(vault: DevServer) -> DevServer:
    vault.reset()
    return vault


def node_home(root: Path, index: int, server: DevServer, redis_url: str, **cache: Any) -> Path:
    """Node ``index``'s home; every node takes node 0's key file."""
    home = root / f"node-{index}"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    document = {
        "chain": ["vault"],
        "providers": {"vault": {"type": "thycotic", **server.thycotic_table(pool_size=16)}},
        "cache": {"backend": "redis", "url": redis_url, **cache},
    }
    path = home / "credchain.toml"
    path.write_bytes(tomli_w.dumps(document).encode())
    path.chmod(0o600)
    first = root / "node-0" / "secret.key"
    if index == 0:
        from credchain.secretstore import SecretStore

        SecretStore(home).encrypt("make the key")
    else:
        shutil.copy(first, home / "secret.key")
    return home


def resolver(home: Path) -> Resolver:
    return Resolver.from_config(home / "credchain.toml", environ={"CREDCHAIN_HOME": str(home)})


def grants(server: DevServer) -> int:
    return sum(server.get_stats()["grants"].values())


def searches(server: DevServer) -> int:
    return server.get_stats()["requests"].get("GET api/v1/secrets", 0)


def raw_entries(url: str) -> dict[bytes, bytes]:
    client = redis.Redis.from_url(url)
    try:
        return {key: client.get(key) or b"" for key in client.scan_iter(count=1000)}
    finally:
        client.close()


def resolve_all(r: Resolver, **options: Any) -> list[str]:
    """Every asset's outcome, in completion order."""
    return [res.outcome for res in r.resolve_many(QUERIES, concurrency=8, **options)]


def test_nothing_in_redis_is_readable(
    server: DevServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    home = node_home(tmp_path, 0, server, redis_server.url)
    with resolver(home) as r:
        assert resolve_all(r) == ["found"] * COUNT
        account = r.chain[0].provider.client.account  # type: ignore[attr-defined]
        token = account.tokens.current.value
    entries = raw_entries(redis_server.url)
    assert len(entries) >= COUNT + 1  # the answers and the token
    # latin-1 maps each byte to one character: the raw bytes, searchable as text
    dump = "\n".join(f"{k.decode('latin-1')} {v.decode('latin-1')}" for k, v in entries.items())
    planted = [*PASSWORDS.values(), *NAMES, token, server.admin.password, "svc-scan"]
    assert_no_secrets(dump, planted)
    for text in (*(str(i) for i in IDS.values()), "127.0.0.1", str(server.url), "api/v1"):
        assert text not in dump
    assert all(key.startswith(b"credchain:") and len(key) == 10 + 64 for key in entries)


def test_every_entry_expires_no_later_than_its_token_or_answer(
    server: DevServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    home = node_home(tmp_path, 0, server, redis_server.url)
    with resolver(home) as r:
        resolve_all(r, cache_ttl=120.0)
        account = r.chain[0].provider.client.account  # type: ignore[attr-defined]
        lifetime = account.tokens.current.expires_at - time.time()
    client = redis.Redis.from_url(redis_server.url)
    ttls = [client.pttl(key) for key in client.scan_iter()]
    client.close()
    assert all(0 < ttl <= max(lifetime * 1000 + 1000, 120_000) for ttl in ttls)


def test_answers_expire_after_the_scans_cache_ttl(
    server: DevServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    home = node_home(tmp_path, 0, server, redis_server.url)
    with resolver(home) as r:
        resolve_all(r, cache_ttl=0.2)
        deadline = time.monotonic() + 20
        while len(raw_entries(redis_server.url)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(raw_entries(redis_server.url)) == 1  # the token is left
        before = searches(server)
        resolve_all(r, cache_ttl=0.2)
        assert searches(server) - before == COUNT


def test_four_processes_make_one_grant_and_one_search_per_asset(
    server: DevServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"asset_name": n}) + "\n" for n in NAMES))
    homes = [node_home(tmp_path, i, server, redis_server.url, lock_wait=120.0) for i in range(4)]
    nodes = [ScanNode(home, queries, concurrency=8) for home in homes]
    try:
        for node in nodes:
            node.go()
        results = [node.result() for node in nodes]
    finally:
        for node in nodes:
            node.__exit__(None, None, None)
    assert [r["found"] for r in results] == [COUNT] * 4, results
    assert grants(server) == 1
    assert searches(server) == COUNT


def test_a_second_node_reuses_the_clusters_token(
    server: DevServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    with resolver(node_home(tmp_path, 0, server, redis_server.url)) as first:
        first.resolve(QUERIES[0])
    with resolver(node_home(tmp_path, 1, server, redis_server.url)) as second:
        second.resolve(QUERIES[1])
    assert grants(server) == 1


def test_a_token_the_vault_revoked_is_replaced_once_for_the_cluster(
    server: DevServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    with (
        resolver(node_home(tmp_path, 0, server, redis_server.url)) as first,
        resolver(node_home(tmp_path, 1, server, redis_server.url)) as second,
    ):
        first.resolve(QUERIES[0])
        second.resolve(QUERIES[1])
        server.revoke_tokens()
        first.resolve(QUERIES[2])
        second.resolve(QUERIES[3])
    assert grants(server) == 2


def test_redis_killed_mid_run_fails_no_asset_and_warns_once(
    server: DevServer, redis_server: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = node_home(tmp_path, 0, server, redis_server.url)
    outcomes: list[str] = []

    def progress(done: int, _resolution: object) -> None:
        if done == COUNT // 4:
            redis_server.kill()

    with caplog.at_level(logging.WARNING), resolver(home) as r:
        outcomes = [
            res.outcome for res in r.resolve_many(QUERIES, concurrency=8, progress=progress)
        ]
    assert outcomes == ["found"] * COUNT
    assert caplog.text.count("is unavailable") == 1
    assert_no_secrets(caplog.text, PASSWORDS.values())


def test_nodes_use_redis_again_once_it_is_back(
    server: DevServer, redis_server: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = node_home(tmp_path, 0, server, redis_server.url, retry_after=0.05)
    with caplog.at_level(logging.WARNING), resolver(home) as r:
        assert resolve_all(r) == ["found"] * COUNT
        redis_server.kill()
        assert resolve_all(r) == ["found"] * COUNT
        assert "is unavailable" in caplog.text
        redis_server.start()  # the same port, empty
        deadline = time.monotonic() + 20
        while "is back" not in caplog.text and time.monotonic() < deadline:
            list(r.resolve_many(QUERIES[:1]))
            time.sleep(0.06)
        assert "is back" in caplog.text
        assert resolve_all(r) == ["found"] * COUNT
    assert len(raw_entries(redis_server.url)) >= COUNT  # the answers are shared again


def test_a_tampered_value_is_discarded_and_fetched_again(
    server: DevServer, redis_server: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with resolver(node_home(tmp_path, 0, server, redis_server.url)) as first:
        resolve_all(first)
    client = redis.Redis.from_url(redis_server.url)
    for key, value in raw_entries(redis_server.url).items():
        flipped = bytearray(value)
        flipped[len(flipped) // 2] ^= 0x01
        client.set(key, bytes(flipped), keepttl=True)
    client.close()
    before_searches, before_grants = searches(server), grants(server)
    with (
        caplog.at_level(logging.WARNING),
        resolver(node_home(tmp_path, 1, server, redis_server.url)) as second,
    ):
        answers = list(second.resolve_many(QUERIES, concurrency=8))
    assert all(
        res.credential is not None
        and res.query is not None
        and res.credential.password.get_secret_value() == PASSWORDS[res.query.asset_name or ""]
        for res in answers
    )
    assert searches(server) - before_searches == COUNT
    assert grants(server) - before_grants == 1
    assert "does not decrypt" in caplog.text
    assert_no_secrets(caplog.text, PASSWORDS.values())


def test_a_node_with_another_key_shares_nothing(
    server: DevServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    with resolver(node_home(tmp_path, 0, server, redis_server.url)) as first:
        first.resolve(QUERIES[0])
    other = node_home(tmp_path / "elsewhere", 0, server, redis_server.url)
    with resolver(other) as second:
        second.resolve(QUERIES[0])
    assert grants(server) == 2 and searches(server) == 2


def test_cache_clear_deletes_the_shared_entries(
    server: DevServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    from credchain.testing.process import run_credchain

    home = node_home(tmp_path, 0, server, redis_server.url)
    with resolver(home) as r:
        resolve_all(r)
    result = run_credchain(home, "cache", "clear")
    assert result.returncode == 0, result.stderr
    assert f"cleared {COUNT + 1} shared cache entries in redis://127.0.0.1:" in result.stdout
    assert raw_entries(redis_server.url) == {}
