"""pytest plugin (entry point ``pytest11``): fixtures for credchain plugin authors.

- ``secret_server``: the session's dev Secret Server (demo data, TLS), reset before each test:
  added secrets gone, faults cleared, counters zero, tokens revoked, first certificate back.
- ``secret_server_session``: the same server without the reset (session scope).
- ``secret_server_factory``: ``factory(**options)`` starts an isolated server with other
  ``DevServerOptions`` (``token_ttl=``, ``refresh_tokens=False``, ``latency_ms=``, ``clock=``,
  ``tls=False``, ``data=``...); each is closed when the test ends.
- ``redis_server``: a real ``redis-server`` on a free loopback port, empty, stopped after the
  test (``credchain.testing.redis.RedisServer``); skipped, saying why, where it is not installed.
- ``credchain_home``: a temporary ``CredchainHome`` (``credchain.testing.home``), set as
  ``CREDCHAIN_HOME`` for the test: ``write_config({...})``, ``resolver()``, ``invoke("test")``.
- ``resolver_for``: ``resolver_for(provider, before=[...], after=[...])``, your provider in a
  chain (``credchain.testing.resolvers``); every resolver made is closed when the test ends.

The dev server is imported only when a fixture is used, so merely having credchain installed
costs other test suites nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from credchain.devserver import DevServer
    from credchain.resolver import Resolver
    from credchain.testing.home import CredchainHome
    from credchain.testing.redis import RedisServer

__all__ = [
    "credchain_home",
    "redis_server",
    "resolver_for",
    "secret_server",
    "secret_server_factory",
    "secret_server_session",
]


@pytest.fixture
def credchain_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CredchainHome:
    """An empty credchain home in ``tmp_path``, set as ``CREDCHAIN_HOME`` (and no
    ``CREDCHAIN_CONFIG``) for the test, so in-process commands use it too."""
    from credchain.testing.home import CredchainHome

    monkeypatch.setenv("CREDCHAIN_HOME", str(tmp_path / "credchain-home"))
    monkeypatch.delenv("CREDCHAIN_CONFIG", raising=False)
    return CredchainHome(tmp_path / "credchain-home")


@pytest.fixture
def resolver_for() -> Iterator[Callable[..., Resolver]]:
    """``credchain.testing.resolvers.resolver_for``, closing what it made after the test."""
    from credchain.testing import resolvers

    made: list[Resolver] = []

    def build(provider: object, **options: Any) -> Resolver:
        made.append(resolvers.resolver_for(provider, **options))
        return made[-1]

    yield build
    for resolver in made:
        resolver.close()


@pytest.fixture(scope="session")
def secret_server_session() -> Iterator[DevServer]:
    """One running dev server for the whole session (starting TLS servers is not free)."""
    from credchain.devserver import DevServer

    with DevServer() as server:
        yield server


@pytest.fixture
def secret_server(secret_server_session: DevServer) -> DevServer:
    """The session's dev server, reset to its demo data with no faults and zero counters."""
    secret_server_session.reset()
    return secret_server_session


@pytest.fixture
def secret_server_factory() -> Iterator[Callable[..., DevServer]]:
    """Start isolated dev servers with custom options; all are closed after the test."""
    from credchain.devserver import DevServer

    started: list[DevServer] = []

    def start(**options: Any) -> DevServer:
        server = DevServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A started ``redis-server`` of the test's own, on a free 127.0.0.1 port."""
    from credchain.testing.redis import RedisServer, RedisUnavailable

    try:
        server = RedisServer(directory=tmp_path_factory.mktemp("redis")).start()
    except RedisUnavailable as exc:
        pytest.skip(f"{exc}: the shared-cache tests need a real Redis (.ci/run installs it)")
    try:
        yield server
    finally:
        server.close()
