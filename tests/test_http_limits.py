"""VaultHttp's limits: the deadline holds while the body is read, and more is not read than the
cap. Against a scripted TLS server on loopback (``loopback_tls``) and the dev server."""

from __future__ import annotations

import gzip
import ssl
import time
from pathlib import Path

import pytest
from loopback_tls import loopback_tls

from credchain.devserver import DevServer
from credchain.errors import ProviderUnavailable, UnexpectedAnswer
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


CAP = 64 * 1024
FILLER = "planted-Filler-7c1d"


def dev_http(server: DevServer, **settings: object) -> VaultHttp:
    return VaultHttp(
        server.origin,
        TLSPolicy(ca_bundle=server.ca_cert),
        HttpSettings(**settings),  # type: ignore[arg-type]
    )


def admin_token(http: VaultHttp, server: DevServer) -> dict[str, str]:
    form = {"grant_type": "password", "username": server.admin.username}
    form["password"] = server.admin.password
    answer = http.request("POST", f"{server.url}/oauth2/token", data=form).json()
    return {"Authorization": f"Bearer {answer['access_token']}"}


def test_the_body_cap_is_16_mib_by_default() -> None:
    assert HttpSettings().max_body == 16 * 1024 * 1024


def test_an_answer_over_the_cap_is_refused_without_its_text(secret_server: DevServer) -> None:
    notes = FILLER * (2 * CAP // len(FILLER))
    secret = secret_server.add_secret("big", {"username": "u", "password": "p", "notes": notes})
    http = dev_http(secret_server, max_body=CAP)
    headers = admin_token(http, secret_server)
    with pytest.raises(UnexpectedAnswer, match="over the 64 KiB size limit") as caught:
        http.request("GET", f"{secret_server.url}/api/v1/secrets/{secret}", headers=headers)
    assert FILLER not in str(caught.value)
    http.close()


def test_an_answer_of_exactly_the_cap_is_read(tmp_path: Path) -> None:
    body = b'"' + b"x" * (CAP - 2) + b'"'

    def exactly(tls: ssl.SSLSocket) -> None:
        tls.sendall(HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body)

    with loopback_tls(tmp_path, exactly) as (origin, identity):
        http = VaultHttp(
            origin, TLSPolicy(ca_bundle=str(identity.ca_cert)), HttpSettings(max_body=CAP)
        )
        assert http.request("GET", f"{origin}/x").content == body
        http.close()


def chunked_forever(tls: ssl.SSLSocket) -> None:
    tls.sendall(HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"[" * 8192
    while True:  # until the client hangs up
        tls.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))


@pytest.mark.timeout(20)
def test_an_answer_without_a_length_is_cut_at_the_cap(tmp_path: Path) -> None:
    with loopback_tls(tmp_path, chunked_forever) as (origin, identity):
        http = VaultHttp(
            origin, TLSPolicy(ca_bundle=str(identity.ca_cert)), HttpSettings(max_body=CAP)
        )
        with pytest.raises(UnexpectedAnswer, match="over the 64 KiB size limit"):
            http.request("GET", f"{origin}/x")
        http.close()


def test_a_compressed_answer_is_capped_by_its_decoded_size(tmp_path: Path) -> None:
    body = gzip.compress(b" " * (16 * CAP))  # some 1 KiB on the wire

    def compressed(tls: ssl.SSLSocket) -> None:
        tls.sendall(
            HEAD + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )

    with loopback_tls(tmp_path, compressed) as (origin, identity):
        http = VaultHttp(
            origin, TLSPolicy(ca_bundle=str(identity.ca_cert)), HttpSettings(max_body=CAP)
        )
        with pytest.raises(UnexpectedAnswer, match="over the 64 KiB size limit"):
            http.request("GET", f"{origin}/x")
        http.close()
