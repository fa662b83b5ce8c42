"""Vault faults: retried when that is safe, otherwise ProviderUnavailable with no secret in it."""

from __future__ import annotations

import logging

import pytest
from thycotic_helpers import MakeResolver

from credchain import AssetQuery
from credchain.devserver import DevServer
from credchain.errors import ProviderUnavailable
from credchain.testing.secrets import assert_no_secrets

WEB = AssetQuery(asset_name="web-01.corp.example.com")
SEARCH = "GET api/v1/secrets"


@pytest.fixture
def warm(secret_server: DevServer, make_resolver: MakeResolver) -> tuple[DevServer, MakeResolver]:
    return secret_server, make_resolver


@pytest.mark.parametrize(
    "fault",
    [
        f"reset:{SEARCH}:count=1",
        f"500:{SEARCH}:count=2",
        f"503:{SEARCH}:count=1,retry_after=0",
        f"429:{SEARCH}:count=2,retry_after=0",
    ],
)
def test_transient_faults_are_retried(
    secret_server: DevServer, make_resolver: MakeResolver, fault: str
) -> None:
    resolver = make_resolver(secret_server)
    resolver.resolve(WEB)
    secret_server.add_fault(fault)
    assert resolver.resolve(WEB).username == "svc-scan"


def test_retry_after_is_honoured(secret_server: DevServer, make_resolver: MakeResolver) -> None:
    import time

    resolver = make_resolver(secret_server)
    resolver.resolve(WEB)
    secret_server.add_fault(f"429:{SEARCH}:count=1,retry_after=1")
    started = time.monotonic()
    resolver.resolve(WEB)
    assert time.monotonic() - started >= 0.9


def test_persistent_5xx_is_unavailable(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(secret_server, retries=1)
    resolver.resolve(WEB)
    secret_server.add_fault(f"503:{SEARCH}:retry_after=0")
    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        resolver.resolve(WEB)


def test_html_page_is_unavailable_with_an_excerpt(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(secret_server)
    resolver.resolve(WEB)
    secret_server.add_fault(f"html:{SEARCH}")
    with pytest.raises(ProviderUnavailable, match="HTML page"):
        resolver.resolve(WEB)


def test_html_login_page_from_the_token_endpoint(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    secret_server.add_fault("html:oauth2/token")
    with pytest.raises(ProviderUnavailable, match=r"token endpoint.*HTML page"):
        make_resolver(secret_server).resolve(WEB)


def test_truncated_json_is_unavailable_and_shows_nothing_of_it(
    secret_server: DevServer, make_resolver: MakeResolver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_server.add_secret("trunc-host", {"username": "t", "password": "Trunc-Planted-77"})
    resolver = make_resolver(secret_server)
    resolver.resolve(WEB)
    secret_server.add_fault(f"truncated:{SEARCH}")
    with pytest.raises(ProviderUnavailable, match="malformed JSON") as caught:
        resolver.resolve(AssetQuery(asset_name="trunc-host"))
    assert_no_secrets(str(caught.value) + caplog.text, ["Trunc-Planted-77"])


def test_slow_response_times_out(secret_server: DevServer, make_resolver: MakeResolver) -> None:
    resolver = make_resolver(secret_server, read_timeout=0.3, retries=0)
    resolver.resolve(WEB)
    secret_server.add_fault(f"slow:{SEARCH}:delay=1")
    with pytest.raises(ProviderUnavailable, match=r"did not answer within 0\.3 s"):
        resolver.resolve(WEB)


def test_unreachable_vault_is_unavailable(
    make_resolver: MakeResolver, secret_server: DevServer
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    resolver = make_resolver(secret_server, port=free_port, retries=0)
    with pytest.raises(ProviderUnavailable, match="cannot reach"):
        resolver.resolve(WEB)


def test_token_endpoint_reset_is_retried_as_a_connection_error(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    secret_server.add_fault("reset:oauth2/token:count=1")
    resolver = make_resolver(secret_server)
    with pytest.raises(ProviderUnavailable):
        resolver.resolve(WEB)
    assert resolver.resolve(WEB).username == "svc-scan"
