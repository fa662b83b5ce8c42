"""The agent's HTTP API, asked over its real Unix socket, on the dev server over real HTTPS."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import (
    WEB,
    Reply,
    ask,
    assert_problem,
    metric,
    short_home,
    started_agent,
    write_config,
)

from credchain.devserver import DevServer
from credchain.devserver.demo_data import demo_password
from credchain.models import encode_base64
from credchain.testing.agent import AgentProcess
from credchain.testing.process import run_credchain

#: a 400 from the dev server's search, which the provider reports as a vault error (502)
VAULT_ERROR = 'body:GET api/v1/secrets:status=400,body={"errorCode": "API_X", "message": "boom"}'


@pytest.fixture(scope="module")
def agent(secret_server_session: DevServer) -> Iterator[AgentProcess]:
    """One agent for the module; tests that change state use assets no other test asks for."""
    with started_agent(secret_server_session, agent={"audit_log": "audit.log"}) as process:
        yield process


def resolve(agent: AgentProcess, query: object) -> Reply:
    return ask(agent, "POST", "/v1/resolve", json.dumps(query))


def cli_line(agent: AgentProcess, query: object) -> str:
    """What ``credchain resolve --json`` prints on stderr for ``query``, in the agent's home."""
    result = run_credchain(agent.home, "resolve", "--json", stdin=json.dumps(query))
    assert result.returncode != 0 and result.stdout == ""
    return result.stderr.strip()


def test_resolve_answers_the_safe_dict_and_names_the_entry(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """200: the SAFE dict exactly, and the entry that answered in Credchain-Entry."""
    reply = resolve(agent, {"asset_name": WEB})
    assert reply.status == 200
    assert reply.content_type.startswith("application/json")
    assert reply.json() == {"username": "svc-scan", "password": encode_base64(demo_password(WEB))}
    assert reply.headers["Credchain-Entry"] == "vault"


def test_an_unknown_asset_is_a_404_problem(agent: AgentProcess, secret_server: DevServer) -> None:
    """404 not-found, naming the asset."""
    body = assert_problem(resolve(agent, {"asset_name": "nope.example"}), "not-found", 404)
    assert "nope.example" in body["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("not json", "the query is not JSON"),
        ("[1, 2]", "a query must be a JSON object, not list"),
        ('"web-01"', "a query must be a JSON object, not str"),
        ('{"asset_name": "a", "colour": "red"}', "unknown query key 'colour'"),
        ('{"domain": "CORP"}', "a query needs at least one of"),
        ('{"asset_name": "a\\u001bb"}', "control character"),
        ('{"asset_name": 5}', "must be text"),
        (b'{"asset_name": "\xff"}', "not UTF-8"),
        ('{"asset_name": "web-01"}'.encode("utf-16"), "not UTF-8"),
    ],
    ids=[
        "not-json",
        "array",
        "string",
        "unknown-key",
        "no-identifier",
        "control",
        "int",
        "bytes",
        "utf-16",
    ],
)
def test_a_bad_query_is_a_400_problem(agent: AgentProcess, body: str | bytes, detail: str) -> None:
    """400 bad-query whose detail says what is wrong with it."""
    reply = ask(agent, "POST", "/v1/resolve", body)
    assert detail in assert_problem(reply, "bad-query", 400)["detail"]


def test_a_body_over_the_cap_is_refused_with_a_problem(agent: AgentProcess) -> None:
    """A body over 64 KiB: 400 or 413, as a problem, never read as a query."""
    reply = ask(agent, "POST", "/v1/resolve", json.dumps({"asset_name": "a" * 70_000}))
    assert reply.status in (400, 413)
    assert_problem(reply, "bad-query" if reply.status == 400 else "too-large", reply.status)


def test_a_vault_that_is_down_is_a_503_problem(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """503 vault-unavailable when the vault answers 503."""
    secret_server.add_fault("503:*")
    body = assert_problem(
        resolve(agent, {"asset_name": "db-01.corp.example.com"}), "vault-unavailable", 503
    )
    assert "503" in body["detail"]


def test_a_vault_error_is_a_502_problem(agent: AgentProcess, secret_server: DevServer) -> None:
    """502 vault-error when the vault refuses the search."""
    secret_server.add_fault(VAULT_ERROR)
    body = assert_problem(
        resolve(agent, {"asset_name": "db-02.corp.example.com"}), "vault-error", 502
    )
    assert "API_X" in body["detail"]


@pytest.mark.parametrize(
    ("query", "fault", "prefix"),
    [
        ({"asset_name": "nope.example"}, None, "credchain: not found: "),
        ({"asset_name": "a", "colour": "red"}, None, "credchain: error: "),
        ({"domain": "CORP"}, None, "credchain: error: "),
        ({"asset_name": "a\u001bb\nc"}, None, "credchain: error: "),
        ({"asset_name": "db-03.corp.example.com"}, "503:*", "credchain: error: "),
        ({"asset_name": "db-04.corp.example.com"}, VAULT_ERROR, "credchain: error: "),
    ],
    ids=["not-found", "unknown-key", "no-identifier", "control", "vault-down", "vault-error"],
)
def test_a_problem_detail_is_the_line_the_cli_prints(
    agent: AgentProcess,
    secret_server: DevServer,
    query: dict[str, str],
    fault: str | None,
    prefix: str,
) -> None:
    """The detail is the same one line as ``credchain resolve --json`` for the same query."""
    if fault is not None:
        secret_server.add_fault(fault)
    detail = resolve(agent, query).json()["detail"]
    assert cli_line(agent, query) == prefix + detail


def test_a_disabled_chain_is_a_503_disabled_problem(secret_server: DevServer) -> None:
    """``enabled = false``: 503 disabled, with the CLI's line."""
    with short_home() as home:
        write_config(home, secret_server, top={"enabled": False})
        with AgentProcess(home) as process:
            body = assert_problem(resolve(process, {"asset_name": WEB}), "disabled", 503)
            assert cli_line(process, {"asset_name": WEB}) == "credchain: error: " + body["detail"]


def test_an_unknown_route_is_a_404_problem(agent: AgentProcess) -> None:
    """404 no-such-route, as problem JSON."""
    assert_problem(ask(agent, "GET", "/v1/nothing-here"), "no-such-route", 404)


def test_a_wrong_method_is_a_405_problem(agent: AgentProcess) -> None:
    """405 method-not-allowed, as problem JSON."""
    assert_problem(ask(agent, "GET", "/v1/resolve"), "method-not-allowed", 405)


def test_a_bad_concurrency_is_a_400_problem_with_a_fixed_title(agent: AgentProcess) -> None:
    """The title is the status's, the same for every occurrence (RFC 9457); the detail says why."""
    body = assert_problem(
        ask(agent, "POST", "/v1/resolve-many?concurrency=0", ""), "bad-request", 400
    )
    assert body["title"] == "Bad Request"
    assert "concurrency" in body["detail"]


def test_explain_answers_the_trace(agent: AgentProcess, secret_server: DevServer) -> None:
    """The trace: the query, the outcome, one step per entry tried, no secret."""
    reply = ask(agent, "POST", "/v1/explain", {"asset_name": WEB})
    assert reply.status == 200
    trace = reply.json()
    assert trace["outcome"] == "found"
    assert trace["query"]["asset_name"] == WEB
    assert [(s["entry"], s["outcome"]) for s in trace["steps"]] == [("vault", "found")]


def test_explain_of_a_bad_query_is_a_400_problem(agent: AgentProcess) -> None:
    """/v1/explain checks the query as /v1/resolve does."""
    assert_problem(ask(agent, "POST", "/v1/explain", "[]"), "bad-query", 400)


def test_health_shows_each_entry_found(agent: AgentProcess, secret_server: DevServer) -> None:
    """After an answer from the vault, its entry's last state is found, the agent ok."""
    assert resolve(agent, {"asset_name": "app-01.corp.example.com"}).status == 200
    health = ask(agent, "GET", "/v1/health").json()
    assert health["status"] == "ok"
    assert health["enabled"] is True
    [entry] = health["entries"]
    assert (entry["name"], entry["type"], entry["last"]["outcome"]) == (
        "vault",
        "thycotic",
        "found",
    )


def test_health_shows_an_unavailable_entry_and_why(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """After a fault, the entry is unavailable with the reason, the agent degraded."""
    secret_server.add_fault("503:*")
    assert resolve(agent, {"asset_name": "app-02.corp.example.com"}).status == 503
    health = ask(agent, "GET", "/v1/health").json()
    assert health["status"] == "degraded"
    last = health["entries"][0]["last"]
    assert last["outcome"] == "unavailable"
    assert "503" in last["reason"]


def scrape(agent: AgentProcess) -> str:
    reply = ask(agent, "GET", "/metrics")
    assert reply.status == 200
    assert reply.content_type.startswith("text/plain")
    return reply.body.decode()


def test_metrics_count_resolutions_by_entry_and_outcome(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """credchain_resolutions_total grows by one per answer, labelled entry and outcome."""
    before = scrape(agent)
    resolve(agent, {"asset_name": "app-03.corp.example.com"})
    resolve(agent, {"asset_name": "nothing.example"})
    after = scrape(agent)
    for outcome in ("found", "not_found"):
        labels = {"entry": "vault", "outcome": outcome}
        grown = metric(after, "credchain_resolutions_total", **labels)
        assert grown == metric(before, "credchain_resolutions_total", **labels) + 1


def test_metrics_count_vault_requests_and_grants_by_entry(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """Vault searches and token grants are counted by entry, as the dev server saw them."""
    before = scrape(agent)
    resolve(agent, {"asset_name": "app-04.corp.example.com"})
    after = scrape(agent)
    searches = secret_server.get_stats()["requests"].get("GET api/v1/secrets", 0)
    assert searches >= 1
    grown = metric(after, "credchain_vault_requests_total", entry="vault", kind="search")
    assert (
        grown
        == metric(before, "credchain_vault_requests_total", entry="vault", kind="search") + searches
    )
    assert metric(after, "credchain_vault_grants_total", entry="vault") >= 1


def test_metrics_count_a_repeat_as_a_cache_hit(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """The second ask for an asset is answered from the cache, and counted."""
    query = {"asset_name": "db-01.corp.example.com", "domain": "cache-test"}
    assert resolve(agent, query).status == 200
    before = scrape(agent)
    assert resolve(agent, query).status == 200
    after = scrape(agent)
    assert (
        metric(after, "credchain_cache_hits_total")
        == metric(before, "credchain_cache_hits_total") + 1
    )


def test_metrics_have_request_histograms_and_refusals(agent: AgentProcess) -> None:
    """Requests by route and status, latency histograms, and the refused callers counter."""
    ask(agent, "GET", "/v1/health")
    text = scrape(agent)
    assert metric(text, "credchain_agent_requests_total", route="/v1/health", status="200") >= 1
    assert metric(text, "credchain_agent_request_seconds_count", route="/v1/health") >= 1
    assert (
        metric(text, "credchain_agent_request_seconds_bucket", route="/v1/health", le="+Inf") >= 1
    )
    assert "credchain_resolution_seconds" in text
    assert "# TYPE credchain_refused_callers_total counter" in text


def audit_events(agent: AgentProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (agent.home / "audit.log").read_text().splitlines()]


@pytest.mark.parametrize(
    ("method", "path", "event"),
    [
        ("GET", "/v1/health", "health"),
        ("GET", "/metrics", "metrics"),
        ("GET", "/v1/openapi.json", "openapi"),
    ],
)
def test_every_request_has_its_audit_line(
    agent: AgentProcess, method: str, path: str, event: str
) -> None:
    """Not only resolutions: health checks, scrapes and the document are audited too."""
    assert ask(agent, method, path).status == 200
    line = audit_events(agent)[-1]
    assert line["event"] == event and line["status"] == 200 and line["outcome"] == "ok"
    assert line["caller"]["pid"] and line["route"] == f"{method} {path}"


def test_a_reload_over_http_names_its_caller_in_the_audit_log(agent: AgentProcess) -> None:
    assert ask(agent, "POST", "/v1/reload").status == 200
    line = audit_events(agent)[-1]
    assert line["event"] == "reload" and line["outcome"] == "ok"
    assert line["caller"]["uid"] == os.getuid()


def test_a_request_for_no_route_is_audited_as_rejected(agent: AgentProcess) -> None:
    assert ask(agent, "GET", "/v1/nothing-here").status == 404
    line = audit_events(agent)[-1]
    assert (line["event"], line["status"], line["route"]) == (
        "rejected",
        404,
        "GET /v1/nothing-here",
    )


def test_vault_counts_neither_double_nor_drop_across_a_reload(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """A reload keeps the vault account (and its counter): the totals go on from where they were."""

    def searches() -> float:
        text = ask(agent, "GET", "/metrics").body.decode()
        return metric(text, "credchain_vault_requests_total", entry="vault", kind="search")

    assert resolve(agent, {"asset_name": "count-me-1.example"}).status == 404
    before = searches()
    assert ask(agent, "POST", "/v1/reload").status == 200
    assert searches() == before
    assert resolve(agent, {"asset_name": "count-me-2.example"}).status == 404
    assert searches() == before + 1
