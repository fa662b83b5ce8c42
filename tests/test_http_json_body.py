"""What a vault answer that is not JSON costs: an error that shows no body text."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from credchain.errors import ProviderUnavailable
from credchain.http import json_body
from credchain.testing.secrets import assert_no_secrets

CANARY = "Canary-Pa55w0rd-7f3e"


def answer(body: str, content_type: str = "text/html; charset=utf-8") -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = content_type
    response._content = body.encode()
    response.encoding = "utf-8"
    return response


def error_of(response: requests.Response) -> str:
    with pytest.raises(ProviderUnavailable) as caught:
        json_body(response, "the search")
    return str(caught.value)


def test_html_page_without_title_is_reported_by_its_size_only() -> None:
    body = f'{{"username": "svc", "password": "{CANARY}", '
    message = error_of(answer(body))
    assert message == (
        f"the search: expected JSON, got an HTML page (HTTP 200, {len(body.encode())} bytes)"
    )
    assert_no_secrets(message, [CANARY])


def test_html_page_title_is_shown_but_no_body_text() -> None:
    page = f"<html><head><title>Login - Secret Server</title></head><p>{CANARY}</p></html>"
    message = error_of(answer(page))
    assert message.endswith("titled 'Login - Secret Server'")
    assert_no_secrets(message, [CANARY])


def test_html_page_title_is_escaped_and_cut_at_80_characters() -> None:
    title = "\x1b[31m" + "x" * 100
    message = error_of(answer(f"<title>{title}</title>"))
    shown = message.split("titled ", 1)[1]
    assert "\x1b" not in message and shown == repr(("\x1b[31m" + "x" * 100)[:80] + "…")


@given(st.text().filter(lambda text: "title" not in text.lower()))
def test_no_text_of_an_untitled_page_reaches_the_error(body: str) -> None:
    message = error_of(answer("<" + body))
    size = len(("<" + body).encode())
    assert message == f"the search: expected JSON, got an HTML page (HTTP 200, {size} bytes)"
