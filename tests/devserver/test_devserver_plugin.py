"""The pytest fixtures this package ships for plugin authors."""

from __future__ import annotations

from collections.abc import Callable

import requests

from credchain.devserver import DevServer


def test_secret_server_fixture_starts_clean(secret_server: DevServer) -> None:
    assert secret_server.faults.armed() == []
    assert secret_server.get_stats()["requests"] == {}
    assert secret_server.url.startswith("https://127.0.0.1:")
    assert secret_server.ca_cert and secret_server.fingerprint_sha256
    assert secret_server.admin.username == "admin" and secret_server.admin.password


def test_factory_starts_isolated_server_with_latency(
    secret_server: DevServer, secret_server_factory: Callable[..., DevServer]
) -> None:
    slow = secret_server_factory(latency_ms=50, tls=False)
    assert slow.port != secret_server.port
    response = requests.get(f"{slow.url}/api/v1/healthcheck", timeout=5)
    assert response.elapsed.total_seconds() >= 0.05


def test_server_closes_and_removes_its_files() -> None:
    with DevServer() as server:
        ca = server.ca_cert
        assert ca is not None
    import os

    assert not os.path.exists(ca)
