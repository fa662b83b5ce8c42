"""VaultHttp's limits: the deadline holds while the body is read, and more is not read than the
cap. Against a scripted TLS server on loopback (``loopback_tls``) and the dev server."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest
from loopback_tls import loopback_tls

from credchain.errors import ProviderUnavailable
from credchain.http import HttpSettings, VaultHttp
from credchain.tls import TLSPolicy

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


def prompt_head_then_trickle(tls: ssl.SSLSocket) -> None:
    body = b'{"records": []}' * 100
    tls.sendall(HEAD + b"Content-Length: %d\r\n\r\n" % len(body))
    for byte in body:
        tls.sendall(bytes([byte]))
        time.sleep(0.2)


@pytest.mark.timeout(20)
def test_the_deadline_holds_while_the_body_trickles_in(tmp_path: Path) -> None:
    with loopback_tls(tmp_path, prompt_head_then_trickle) as (origin, identity):
        http = VaultHttp(
            origin,
            TLSPolicy(ca_bundle=str(identity.ca_cert)),
            HttpSettings(read_timeout=5.0, deadline=1.0),
        )
        with pytest.raises(ProviderUnavailable, match=r"within the 1 s deadline"):
            http.request("GET", f"{origin}/SecretServer/api/v1/secrets")
        http.close()


def cut_short(tls: ssl.SSLSocket) -> None:
    tls.sendall(HEAD + b"Content-Length: 1000\r\n\r\n" + b'{"records": [')


def test_an_answer_cut_short_is_unavailable(tmp_path: Path) -> None:
    with loopback_tls(tmp_path, cut_short) as (origin, identity):
        http = VaultHttp(origin, TLSPolicy(ca_bundle=str(identity.ca_cert)))
        with pytest.raises(ProviderUnavailable, match="broke off its answer"):
            http.request("POST", f"{origin}/SecretServer/oauth2/token", data={"a": "b"})
        http.close()
