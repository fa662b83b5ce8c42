"""The ``body`` fault: a matching request gets the status, Content-Type and body it was given."""

from __future__ import annotations

import base64

import pytest
from conftest import Client

from credchain.devserver import FAULT_KINDS, Fault, parse_fault

SEARCH = "GET api/v1/secrets"


def test_body_is_the_last_fault_kind() -> None:
    assert FAULT_KINDS[-1] == "body"


def test_body_fault_answers_with_the_given_status_type_and_body(admin: Client) -> None:
    admin.server.add_fault(
        Fault("body", SEARCH, count=1, status=200, body='{"records": [{"id": "abc"}]}')
    )
    response = admin.get("api/v1/secrets")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == b'{"records": [{"id": "abc"}]}'
    assert "records" in admin.get("api/v1/secrets").json()  # the fault disarmed


def test_body_fault_sends_bytes_as_they_are(admin: Client) -> None:
    admin.server.add_fault(
        Fault("body", SEARCH, status=502, content_type="text/plain", body=b"\xff\xfe\x00{")
    )
    response = admin.get("api/v1/secrets")
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/plain"
    assert response.content == b"\xff\xfe\x00{"


def test_body_fault_with_an_empty_body(admin: Client) -> None:
    admin.server.add_fault(Fault("body", SEARCH))
    response = admin.get("api/v1/secrets")
    assert (response.status_code, response.content) == (200, b"")


def test_body_option_comes_last_and_takes_the_rest_of_the_spec() -> None:
    fault = parse_fault(
        'body:oauth2/token:count=1,status=400,content_type=text/x,body={"a": 1, "b":2}'
    )
    assert fault == Fault(
        "body", "oauth2/token", count=1, status=400, content_type="text/x", body='{"a": 1, "b":2}'
    )
    assert parse_fault("body:*:body=").body == ""


def test_body_fault_over_the_control_endpoint_round_trips(admin: Client) -> None:
    raw = base64.b64encode(b"\x80not utf-8").decode()
    armed = admin.control(
        "POST",
        "faults",
        json=[
            {
                "kind": "body",
                "route": "api/v1/secrets",
                "count": 1,
                "status": 500,
                "body": "[1e400]",
            },
            {"kind": "body", "route": "api/v1/secrets", "count": 1, "body_base64": raw},
        ],
    )
    assert armed.status_code == 200
    assert [f.get("body", f.get("body_base64")) for f in armed.json()] == ["[1e400]", raw]
    first = admin.get("api/v1/secrets")
    assert (first.status_code, first.content) == (500, b"[1e400]")
    assert admin.get("api/v1/secrets").content == b"\x80not utf-8"
    assert admin.control("PUT", "faults", json=armed.json()).status_code == 200
    assert len(admin.server.faults.armed()) == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"status": 204},
        {"status": 304},
        {"status": 99},
        {"status": 600},
        {"content_type": "text/plain\r\nX-Injected: 1"},
        {"body": 5},
        {"body": "\ud800"},
        {"body": "a", "body_base64": "YQ=="},
        {"body_base64": "not base64!"},
    ],
)
def test_body_fault_refuses_what_it_cannot_send(admin: Client, fields: dict[str, object]) -> None:
    response = admin.control("POST", "faults", json=[{"kind": "body", **fields}])
    assert response.status_code == 400
    assert admin.server.faults.armed() == []
