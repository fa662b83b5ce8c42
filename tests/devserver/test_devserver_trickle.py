"""The ``trickle`` fault: the normal response, one byte at a time."""

from __future__ import annotations

import socket
import ssl

from conftest import Client

from credchain.devserver import DevServer, parse_fault


def test_trickle_defaults_to_one_second_per_byte() -> None:
    assert parse_fault("trickle:oauth2/token").delay == 1.0
    assert parse_fault("trickle:*:delay=0.25").delay == 0.25
    assert parse_fault("slow").delay == 2.0


def test_trickle_sends_the_normal_response_a_byte_per_record(
    secret_server: DevServer, admin: Client
) -> None:
    normal = admin.get("api/v1/healthcheck")
    secret_server.add_fault("trickle:GET api/v1/healthcheck:delay=0.002")
    request = (
        f"GET /SecretServer/api/v1/healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {admin.token}\r\nConnection: close\r\n\r\n"
    ).encode()
    context = ssl.create_default_context(cafile=secret_server.ca_cert)
    pieces: list[bytes] = []
    with (
        socket.create_connection(("127.0.0.1", secret_server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(request)
        while piece := tls.recv(4096):
            pieces.append(piece)
    assert {len(piece) for piece in pieces} == {1}  # each byte its own TLS record
    answer = b"".join(pieces)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(normal.content)
