"""The agent keeps to its OpenAPI document, against a live agent on the dev server.

Requests go to the agent's TCP listener (TLS, the bearer token), since ``requests`` speaks no
Unix sockets.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import TlsAgent, tls_agent_in

from credchain.agent.openapi import OPENAPI
from credchain.devserver import DevServer


@pytest.fixture(scope="module")
def live_agent(secret_server_session: DevServer) -> Iterator[TlsAgent]:
    """One agent for the module (the dev server is not reset under it: nothing here writes)."""
    base = Path(tempfile.mkdtemp(prefix="cc-schema-"))
    home = base / "home"
    home.mkdir(mode=0o700)
    try:
        with tls_agent_in(home, secret_server_session) as agent:
            yield agent
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def session(live_agent: TlsAgent) -> Iterator[requests.Session]:
    """A kept-alive session that sends the agent's token (``verify`` goes with each request:
    requests lets REQUESTS_CA_BUNDLE in the environment override ``Session.verify``)."""
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {live_agent.token}"
        yield http


def test_the_served_document_is_the_one_in_the_source(
    live_agent: TlsAgent, session: requests.Session
) -> None:
    answer = session.get(f"{live_agent.url}/v1/openapi.json", verify=str(live_agent.ca), timeout=30)
    assert answer.json() == OPENAPI


def test_a_method_a_route_does_not_take_is_405_naming_those_it_does(
    live_agent: TlsAgent, session: requests.Session
) -> None:
    answer = session.request("TRACE", f"{live_agent.url}/v1/health", verify=str(live_agent.ca))
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET"
    assert answer.json()["type"] == "urn:credchain:problem:method-not-allowed"


def test_resolve_many_without_a_body_answers_no_lines_as_the_document_allows(
    live_agent: TlsAgent, session: requests.Session
) -> None:
    answer = session.post(f"{live_agent.url}/v1/resolve-many", verify=str(live_agent.ca))
    assert (answer.status_code, answer.content) == (200, b"")
    assert not OPENAPI["paths"]["/v1/resolve-many"]["post"]["requestBody"].get("required")
