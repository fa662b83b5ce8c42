"""The agent keeps to its OpenAPI document: schemathesis against a live agent on the dev server.

Requests go to the agent's TCP listener (TLS, the bearer token), since ``requests`` speaks no
Unix sockets. Every check of schemathesis runs on every answer: status codes, content types,
headers and bodies the document declares (each line of ``/v1/resolve-many`` too, here), the
``Allow`` of a 405, and no 5xx at all. The API declares 502 and 503 for a vault that fails, but
the dev server here is healthy and has no faults injected, so a 5xx can only mean that the
agent or credchain built a bad request or misread an answer; the mapping of vault failures to
502/503 is tested with injected faults elsewhere. Random asset names are not found (404).

Bounded: 50 examples per operation, derandomized when ``CI`` is set. ``POST /v1/reload`` is
fuzzed too, and is harmless: the configuration file does not change, so it reloads the same.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
from conftest import TlsAgent, tls_agent_in
from hypothesis import HealthCheck, settings

from credchain.agent.openapi import OPENAPI
from credchain.devserver import DevServer

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# JSON lines go as the text they are
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
# The document in the source, loaded at import; a test checks that the agent serves exactly it.
# (``schemathesis.pytest.from_fixture`` would load the served one, but schemathesis 4.32's lazy
# schemas set ``Function._nodeid``, which pytest 9 no longer has.)
schema = schemathesis.openapi.from_dict(copy.deepcopy(OPENAPI), config=schemathesis.Config())


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema says it."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


#: one line of /v1/resolve-many, which the document can only call a string
LINE = jsonschema_rs.Draft4Validator(
    {
        **_json_schema(OPENAPI["components"]["schemas"]["ResolveManyLine"]),
        "components": _json_schema(OPENAPI["components"]),
    }
)


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


@pytest.fixture(autouse=True)
def healthy_vault(secret_server_session: DevServer) -> None:
    """The dev server as ``secret_server`` leaves it: tests elsewhere on this worker may have
    left faults or another certificate (its tokens are revoked too; the agent grants again)."""
    secret_server_session.reset()


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


def test_a_random_asset_name_is_not_found(live_agent: TlsAgent, session: requests.Session) -> None:
    answer = session.post(
        f"{live_agent.url}/v1/resolve",
        json={"asset_name": "\u00e9\u4e2d-not-an-asset"},
        verify=str(live_agent.ca),
    )
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("concurrency", ["0", "257", "x", "-1", ""])
def test_a_bad_concurrency_is_400(
    live_agent: TlsAgent, session: requests.Session, concurrency: str
) -> None:
    answer = session.post(
        f"{live_agent.url}/v1/resolve-many",
        params={"concurrency": concurrency},
        data=b'{"asset_name": "x"}\n',
        verify=str(live_agent.ca),
    )
    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:credchain:problem:bad-request"


@schema.parametrize()
@settings(
    max_examples=50,
    derandomize=CI,
    deadline=None,  # a shared machine; the answers are what is checked, not their speed
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_one_the_document_declares(
    case: schemathesis.Case, live_agent: TlsAgent, session: requests.Session
) -> None:
    many = case.path == "/v1/resolve-many"
    response = case.call_and_validate(
        base_url=live_agent.url,
        session=session,
        verify=str(live_agent.ca),
        timeout=30,
        # A body of JSON lines is text, whatever schemathesis "mutates" it to ({} is a line),
        # and a bad line is answered on its own line by design (one bad asset must not fail a
        # scan); a bad ``concurrency`` is 400 (test_a_bad_concurrency_is_400).
        excluded_checks=[schemathesis.checks.negative_data_rejection] if many else None,
    )
    if many and response.status_code == 200:
        for line in response.text.splitlines():
            LINE.validate(json.loads(line))
