"""``POST /v1/resolve-many``: JSON lines in, JSON lines out in completion order, bounded.

A custom script entry ahead of the vault makes lookups that can be held or counted: an asset
``hold-TAG`` waits until the test creates ``TAG/release``; ``gate-TAG-N-I`` waits until N
lookups of TAG are in flight at once (or one has seen N), and notes how many it saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WEB, Reply, ask, started_agent

from credchain.devserver import DevServer
from credchain.devserver.demo_data import DEMO_ASSETS
from credchain.testing.agent import AgentProcess

#: the [agent] max_concurrency of the module's agent
CAP = 3

SCRIPT = """
import base64, os, time, uuid

def get_password_from_thycotic(query_data):
    name = query_data["asset_name"] or ""
    kind, _, rest = name.partition("-")
    if kind == "hold":
        release = os.path.join(rest, "release")
        deadline = time.monotonic() + 20
        while not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.01)
    elif kind == "gate":
        tag, want, _ = rest.split("-")
        inflight = os.path.join(tag, "inflight")
        os.makedirs(inflight, exist_ok=True)
        me = os.path.join(inflight, uuid.uuid4().hex)
        open(me, "w").close()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                seen = len(os.listdir(inflight))
                if seen >= int(want):
                    open(os.path.join(tag, "open"), "w").close()
                if os.path.exists(os.path.join(tag, "open")):
                    break
                time.sleep(0.005)
            with open(os.path.join(tag, "seen"), "a") as notes:
                notes.write(f"{len(os.listdir(inflight))}\\n")
        finally:
            os.remove(me)
    else:
        return None
    return {"username": name, "password": base64.b64encode(b"pw").decode()}
"""


@pytest.fixture(scope="module")
def agent(secret_server_session: DevServer) -> Iterator[AgentProcess]:
    """Chain ``script`` (4 workers) then ``vault``; at most CAP lookups per request."""
    with started_agent(
        secret_server_session,
        agent={"max_concurrency": CAP, "audit_log": "audit.log"},
        providers={"script": {"type": "custom-script", "workers": 4}},
        chain=["script", "vault"],
        files={"integrations/custom/thycotic/thycotic_script.py": SCRIPT},
    ) as process:
        yield process


@pytest.fixture
def state(agent: AgentProcess, request: pytest.FixtureRequest) -> Path:
    """The script's state directory for this test (its name is the test's tag)."""
    tag = request.node.name.replace("_", "").replace("[", "").replace("]", "")[-40:]
    path = agent.home / "integrations" / "custom" / "thycotic" / tag
    path.mkdir(parents=True)
    return path


def lines(reply: Reply) -> list[dict[str, object]]:
    assert reply.status == 200, reply.body
    assert reply.content_type.startswith("application/x-ndjson")
    return [json.loads(line) for line in reply.body.splitlines()]


def many(agent: AgentProcess, body: bytes | str, query: str = "") -> list[dict[str, object]]:
    headers = {"Content-Type": "application/x-ndjson"}
    return lines(ask(agent, "POST", "/v1/resolve-many" + query, body, headers=headers))


def ndjson(*queries: object) -> str:
    return "".join(json.dumps(q) + "\n" for q in queries)


def by_index(answers: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    indexes = [a["index"] for a in answers]
    assert len(indexes) == len(set(indexes)), "an index came back twice"
    return {a["index"]: a for a in answers}


def test_each_line_is_answered_with_its_index(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """One line out per line in: index, outcome, entry, cached, and the credential or problem."""
    answers = by_index(many(agent, ndjson({"asset_name": WEB}, {"asset_name": "nope.example"})))
    assert set(answers) == {0, 1}
    found, missing = answers[0], answers[1]
    assert (found["outcome"], found["entry"]) == ("found", "vault")
    assert isinstance(found["credential"], dict) and found["credential"]["username"] == "svc-scan"
    assert missing["outcome"] == "not_found" and "credential" not in missing
    problem = missing["problem"]
    assert isinstance(problem, dict) and problem["type"] == "urn:credchain:problem:not-found"


def test_answers_come_in_completion_order(agent: AgentProcess, state: Path) -> None:
    """A held lookup (line 0) does not hold back a later one: line 1 comes back first."""
    with agent.client() as client:
        answers = client.resolve_many(
            [{"asset_name": f"hold-{state.name}"}, {"asset_name": "app-01.corp.example.com"}]
        )
        first = next(answers)
        (state / "release").touch()
        rest = list(answers)
    assert first["index"] == 1 and first["outcome"] == "found"
    assert [a["index"] for a in rest] == [0]
    assert rest[0]["outcome"] == "found"


def seen_at_once(agent: AgentProcess, state: Path, width: int, query: str) -> list[int]:
    """Run 4 * width gated lookups; how many were in flight as each one went on."""
    queries = [{"asset_name": f"gate-{state.name}-{width}-{i}"} for i in range(4 * width)]
    answers = many(agent, ndjson(*queries), query)
    assert sorted(a["index"] for a in answers) == list(range(4 * width))
    assert all(a["outcome"] == "found" for a in answers), answers
    return [int(n) for n in (state / "seen").read_text().split()]


def test_concurrency_bounds_the_lookups_in_flight(agent: AgentProcess, state: Path) -> None:
    """?concurrency=2: two lookups run at once, never more."""
    assert max(seen_at_once(agent, state, 2, "?concurrency=2")) == 2


def test_max_concurrency_caps_what_a_request_asks_for(agent: AgentProcess, state: Path) -> None:
    """?concurrency=8 with max_concurrency 3: three at once, never more."""
    assert max(seen_at_once(agent, state, CAP, "?concurrency=8")) == CAP


def test_a_bad_line_is_answered_bad_request_and_the_others_resolve(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """Each bad line gets its own bad_request answer; the good lines around it resolve."""
    body = "\n".join(
        [json.dumps({"asset_name": WEB}), "not json", "[1]", '{"colour": "red"}', '{"domain": "x"}']
    )
    answers = by_index(many(agent, body + "\n" + json.dumps({"asset_name": WEB}) + "\n"))
    assert [answers[i]["outcome"] for i in range(6)] == ["found"] + ["bad_request"] * 4 + ["found"]
    for i in range(1, 5):
        problem = answers[i]["problem"]
        assert isinstance(problem, dict)
        assert problem["type"] == "urn:credchain:problem:bad-query" and problem["status"] == 400


def test_blank_lines_are_skipped(agent: AgentProcess, secret_server: DevServer) -> None:
    """Blank lines take no index and get no answer."""
    body = "\n\n" + json.dumps({"asset_name": WEB}) + "\n   \n\r\n" + '{"asset_name": "x.example"}'
    answers = by_index(many(agent, body))
    assert {i: a["outcome"] for i, a in answers.items()} == {0: "found", 1: "not_found"}


@pytest.mark.parametrize("size", [70_000], ids=["over-64k"])
def test_a_line_over_64_kib_is_bad_request_and_the_next_lines_resolve(
    agent: AgentProcess, secret_server: DevServer, size: int
) -> None:
    """A line longer than 64 KiB is answered bad_request; reading goes on after it."""
    long = json.dumps({"asset_name": "a" * size})
    answers = by_index(
        many(agent, ndjson({"asset_name": WEB}) + long + "\n" + ndjson({"asset_name": WEB}))
    )
    assert {i: a["outcome"] for i, a in answers.items()} == {
        0: "found",
        1: "bad_request",
        2: "found",
    }
    problem = answers[1]["problem"]
    assert isinstance(problem, dict) and "65536 bytes" in str(problem["detail"])


def test_a_large_input_is_streamed_and_each_index_answered_once(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """5,000 lines: every index comes back exactly once."""
    count = 5000
    queries = [{"asset_name": DEMO_ASSETS[i % len(DEMO_ASSETS)].fqdn} for i in range(count)]
    with agent.client() as client:
        indexes = [a["index"] for a in client.resolve_many(queries)]
    assert sorted(indexes) == list(range(count))


def test_duplicate_queries_share_one_vault_request(
    agent: AgentProcess, secret_server: DevServer
) -> None:
    """The same asset asked 10 times in one request: one search reaches the vault."""
    # a "not found" is not cached: this reaches the vault and takes a token (reset revoked it)
    assert ask(agent, "POST", "/v1/resolve", {"asset_name": "warm.example"}).status == 404
    secret_server.reset_stats()
    query = {"asset_name": "db-01.corp.example.com", "domain": "dedupe"}
    answers = many(agent, ndjson(*[query] * 10), "?concurrency=8")
    assert sorted(a["index"] for a in answers) == list(range(10))
    assert all(a["outcome"] == "found" for a in answers)
    assert secret_server.get_stats()["requests"].get("GET api/v1/secrets") == 1


@pytest.mark.parametrize("newline", [True, False], ids=["then-more-lines", "last-line"])
def test_a_line_over_the_read_buffer_is_bad_request_and_the_stream_stays_whole(
    agent: AgentProcess, secret_server: DevServer, newline: bool
) -> None:
    """A line of megabytes (past aiohttp's buffer) is one bad_request with its own index, the
    response stays valid JSON lines, and the lines after it resolve."""
    huge = json.dumps({"asset_name": "a" * 3_000_000})
    after = ndjson({"asset_name": WEB}) if newline else ""
    body = ndjson({"asset_name": WEB}) + huge + ("\n" if newline else "") + after
    answers = by_index(many(agent, body))
    expected = (
        {0: "found", 1: "bad_request", 2: "found"} if newline else {0: "found", 1: "bad_request"}
    )
    assert {i: a["outcome"] for i, a in answers.items()} == expected
    problem = answers[1]["problem"]
    assert isinstance(problem, dict) and "65536 bytes" in str(problem["detail"])
