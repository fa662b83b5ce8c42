"""Fault injection (Python, control endpoint, spec syntax) and the request counters."""

from __future__ import annotations

import hashlib
import random
import socket
import ssl
import time

import pytest
import requests
from conftest import Client

from credchain.devserver import Fault, parse_fault
from credchain.devserver.faults import FaultPlan

SECRET = "GET api/v1/secrets/{id}"


def test_parse_fault_spec() -> None:
    fault = parse_fault("429:GET api/v1/secrets/{id}:count=2,retry_after=7")
    assert fault == Fault("429", "GET api/v1/secrets/{id}", count=2, retry_after=7)
    assert parse_fault("html").route == "*"
    assert parse_fault("slow:oauth2/token:delay=0.5,rate=0.25").delay == 0.5


@pytest.mark.parametrize(
    "spec", ["teapot:*", "500:*:count=0", "500:*:rate=2", "500:*:count=1,rate=0.5", "500:*:x=1"]
)
def test_parse_fault_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_fault(spec)


def test_rate_fires_on_about_that_share() -> None:
    plan = FaultPlan(random.Random(7))  # noqa: S311 (seeded, not crypto)
    plan.add(parse_fault("500:*:rate=0.25"))
    fired = sum(plan.pick("GET", "api/v1/secrets") is not None for _ in range(2000))
    assert 400 < fired < 600


def test_count_fault_disarms_after_n(admin: Client) -> None:
    admin.server.add_fault("500:api/v1/secrets/{id}:count=2")
    assert [admin.get("api/v1/secrets/1").status_code for _ in range(3)] == [500, 500, 200]


def test_route_glob_with_method_does_not_touch_other_routes(admin: Client) -> None:
    admin.server.add_fault("503:GET api/v1/secrets/{id}")
    assert admin.get("api/v1/secrets").status_code == 200
    response = admin.get("api/v1/secrets/1")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"


def test_429_carries_retry_after(admin: Client) -> None:
    admin.server.add_fault("429:api/v1/secrets:count=1,retry_after=3")
    response = admin.get("api/v1/secrets")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"


def test_connection_reset(admin: Client) -> None:
    admin.server.add_fault("reset:api/v1/secrets/{id}:count=1")
    with pytest.raises(requests.ConnectionError):
        admin.get("api/v1/secrets/1")
    assert admin.get("api/v1/secrets/1").status_code == 200


def test_html_page_with_status_200(anonymous: Client) -> None:
    anonymous.server.add_fault("html:oauth2/token:count=1")
    response = anonymous.grant(grant_type="password", username="a", password="b")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text


def test_truncated_json(admin: Client) -> None:
    admin.server.add_fault("truncated:" + SECRET + ":count=1")
    response = admin.get("api/v1/secrets/1")
    assert response.status_code == 200
    with pytest.raises(ValueError, match=r"."):
        response.json()


def test_slow_response(admin: Client) -> None:
    admin.server.add_fault(Fault("slow", "api/v1/healthcheck", count=1, delay=0.3))
    started = time.monotonic()
    assert admin.get("api/v1/healthcheck").status_code == 200
    assert time.monotonic() - started >= 0.3
    admin.server.add_fault(Fault("slow", "api/v1/healthcheck", count=1, delay=1))
    with pytest.raises(requests.Timeout):
        admin.session.get(
            f"{admin.server.url}/api/v1/healthcheck", timeout=0.2, verify=admin.verify
        )


def test_revoke_tokens_fault_fails_the_triggering_request(admin: Client) -> None:
    admin.server.add_fault("revoke-tokens:api/v1/secrets:count=1")
    assert admin.get("api/v1/secrets").status_code == 401
    assert admin.login().get("api/v1/secrets").status_code == 200


def _peer_fingerprint(port: int, cafile: str | None) -> str:
    context = ssl.create_default_context(cafile=cafile)
    if cafile is None:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, 64, 2))


def test_fingerprint_is_the_server_certificate(admin: Client) -> None:
    server = admin.server
    assert _peer_fingerprint(server.port, server.ca_cert) == server.fingerprint_sha256


def test_swap_certificate_changes_fingerprint_and_ca(admin: Client) -> None:
    server = admin.server
    old_ca, old = server.ca_cert, server.fingerprint_sha256
    new = server.swap_certificate()
    assert new != old and server.fingerprint_sha256 == new
    assert _peer_fingerprint(server.port, None) == new
    with pytest.raises(ssl.SSLCertVerificationError):
        _peer_fingerprint(server.port, old_ca)
    assert _peer_fingerprint(server.port, server.ca_cert) == new
    server.reset()
    assert _peer_fingerprint(server.port, old_ca) == old


def test_swap_cert_fault_and_control_endpoint(admin: Client) -> None:
    server = admin.server
    old = server.fingerprint_sha256
    swapped = admin.control("POST", "swap-cert").json()
    assert swapped["fingerprint_sha256"] == server.fingerprint_sha256 != old
    server.add_fault("swap-cert:api/v1/healthcheck:count=1")
    before = server.fingerprint_sha256
    admin.verify = str(server.ca_cert)  # trust the CA now being served
    admin.get("api/v1/healthcheck")
    assert server.fingerprint_sha256 != before


def test_control_endpoint_manages_faults(admin: Client) -> None:
    armed = admin.control("POST", "faults", json={"faults": ["500:api/v1/secrets:count=1"]})
    assert armed.json()[0]["kind"] == "500"
    assert admin.get("api/v1/secrets").status_code == 500
    admin.control("POST", "faults", json=[{"kind": "503", "route": "api/v1/secrets"}])
    assert admin.control("GET", "faults").json()[0]["kind"] == "503"
    assert admin.control("DELETE", "faults").json() == []
    assert admin.get("api/v1/secrets").status_code == 200
    assert admin.control("POST", "faults", json=["nonsense:*"]).status_code == 400


def test_control_endpoint_revokes_tokens(admin: Client) -> None:
    admin.control("POST", "revoke-tokens").raise_for_status()
    assert admin.get("api/v1/secrets").status_code == 401


def test_stats_count_by_route_template(admin: Client) -> None:
    admin.server.reset_stats()
    admin.get("api/v1/secrets/1")
    admin.get("api/v1/secrets/2")
    admin.get("api/v1/secrets")
    stats = admin.control("GET", "stats").json()
    assert stats["requests"] == {SECRET: 2, "GET api/v1/secrets": 1}
    assert set(stats["grants"]) == {"password", "refresh_token", "client_credentials"}
    assert admin.server.get_stats() == stats


def test_reset_stats_endpoint(admin: Client) -> None:
    admin.get("api/v1/secrets")
    zero = admin.control("POST", "reset-stats").json()
    assert zero["requests"] == {} and set(zero["grants"].values()) == {0}


def test_control_reset_endpoint_clears_everything(admin: Client) -> None:
    admin.server.add_fault("500:*")
    admin.control("POST", "reset").raise_for_status()
    assert admin.server.faults.armed() == []
    assert admin.get("api/v1/secrets").status_code == 401  # tokens were revoked too
