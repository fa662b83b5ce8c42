"""The Node.js client (``contrib/agent-clients/node``) against a running agent on the dev server.

Each test runs a short ES module in ``node`` that uses the client and prints its result (or the
error it rejected with) as JSON; the agent is a real process on its Unix socket, or on TCP+TLS.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import WEB, TlsAgent

from credchain.devserver.demo_data import demo_password
from credchain.models import encode_base64
from credchain.testing.agent import AgentProcess

NODE = shutil.which("node")
CLIENT = Path(__file__).resolve().parents[2] / "contrib/agent-clients/node/credchain-agent.mjs"

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not on PATH: the Node.js agent client needs Node 18.3 or later"
)

_SCRIPT = """
import fs from 'node:fs';
import {{ CredchainAgent }} from {client};
const options = JSON.parse(process.argv[1]);
const web = {{ asset_name: {web} }};
if (options.ca !== undefined) options.ca = fs.readFileSync(options.ca);
const agent = new CredchainAgent(options);
try {{
  const result = await (async () => {{ {body} }})();
  process.stdout.write(JSON.stringify({{ result, connections: agent.connectionsOpened }}));
}} catch (error) {{
  const {{ name, message, status, slug, type, detail }} = error;
  const problem = {{ name, message, status, slug, type, detail }};
  process.stdout.write(JSON.stringify({{ error: problem }}));
}} finally {{
  agent.close();
}}
"""


def node(body: str, **options: object) -> dict[str, Any]:
    """Run ``body`` (an async function body; ``agent`` is a client made with ``options``, ``web``
    the query for ``WEB``) in Node: ``{"result": ..., "connections": n}`` or ``{"error": {...}}``.
    """
    assert NODE is not None
    script = _SCRIPT.format(client=json.dumps(CLIENT.as_uri()), web=json.dumps(WEB), body=body)
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script, json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def on_socket(agent: AgentProcess, body: str) -> dict[str, Any]:
    return node(body, socketPath=str(agent.socket_path))


def command(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, str(CLIENT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def audit_lines(agent: AgentProcess) -> list[dict[str, Any]]:
    text = (agent.home / "audit.log").read_text()
    return [json.loads(line) for line in text.splitlines()]


def q(query: dict[str, object]) -> str:
    return json.dumps(query)


# -- over the Unix socket ------------------------------------------------------------------------


def test_resolve_answers_the_safe_dict(running_agent: AgentProcess) -> None:
    answer = on_socket(running_agent, "return agent.resolve(web);")
    safe = answer["result"]
    assert safe["password"] == encode_base64(demo_password(WEB))
    assert safe["username"]


def test_a_missing_asset_rejects_with_the_not_found_problem(running_agent: AgentProcess) -> None:
    error = on_socket(running_agent, f"return agent.resolve({q({'asset_name': 'nope'})});")["error"]
    assert error["name"] == "AgentProblem"
    assert (error["status"], error["slug"]) == (404, "not-found")
    assert error["type"] == "urn:credchain:problem:not-found"
    assert "nope" in error["detail"]
    assert error["message"] == error["detail"]


def test_a_bad_query_rejects_with_400(running_agent: AgentProcess) -> None:
    error = on_socket(running_agent, f"return agent.resolve({q({'asset_name': 5})});")["error"]
    assert (error["status"], error["slug"]) == (400, "bad-query")
    assert error["detail"] == "asset_name must be text, not int"


def test_resolve_many_answers_each_query_with_its_index(running_agent: AgentProcess) -> None:
    queries = [{"asset_name": WEB}, {"asset_name": "nope"}, {}]
    lines = on_socket(
        running_agent, f"return agent.resolveMany({q(queries)}, {{ concurrency: 2 }});"
    )
    by_index = {line["index"]: line for line in lines["result"]}
    assert sorted(by_index) == [0, 1, 2]
    assert by_index[0]["outcome"] == "found"
    assert by_index[0]["credential"]["password"] == encode_base64(demo_password(WEB))
    assert by_index[1]["outcome"] == "not_found"
    assert by_index[1]["problem"]["status"] == 404
    assert by_index[2]["outcome"] == "bad_request"


def test_resolve_many_of_no_queries_is_no_lines(running_agent: AgentProcess) -> None:
    assert on_socket(running_agent, "return agent.resolveMany([]);")["result"] == []


def test_resolve_many_rejects_a_bad_concurrency_with_400(running_agent: AgentProcess) -> None:
    body = "return agent.resolveMany([web], { concurrency: 0 });"
    error = on_socket(running_agent, body)["error"]
    assert (error["status"], error["name"]) == (400, "AgentProblem")


def test_health_names_each_chain_entry(running_agent: AgentProcess) -> None:
    health = on_socket(running_agent, "return agent.health();")["result"]
    assert health["status"] == "ok"
    assert [entry["name"] for entry in health["entries"]] == ["vault"]


def test_many_requests_share_one_kept_alive_connection(running_agent: AgentProcess) -> None:
    body = """
      const seen = [];
      for (let i = 0; i < 20; i++) seen.push((await agent.resolve(web)).username);
      await agent.health();
      await agent.resolveMany([web]);
      return { seen: seen.length, pid: process.pid };
    """
    answer = on_socket(running_agent, body)
    assert answer["result"]["seen"] == 20
    assert answer["connections"] == 1
    callers = {json.dumps(line["caller"]) for line in audit_lines(running_agent)}
    assert [json.loads(c)["pid"] for c in callers] == [answer["result"]["pid"]]


def test_no_agent_rejects_with_agent_unavailable(agent_home: Path) -> None:
    error = node("return agent.health();", socketPath=str(agent_home / "none.sock"))["error"]
    assert error["name"] == "AgentUnavailable"
    assert "none.sock" in error["message"]


# -- over TCP with TLS and the bearer token ------------------------------------------------------


def test_over_tls_with_the_token_one_connection_serves_every_request(tls_agent: TlsAgent) -> None:
    body = """
      const passwords = new Set();
      for (let i = 0; i < 10; i++) passwords.add((await agent.resolve(web)).password);
      return [...passwords];
    """
    answer = node(body, url=tls_agent.url, ca=str(tls_agent.ca), token=tls_agent.token)
    assert answer["result"] == [encode_base64(demo_password(WEB))]
    assert answer["connections"] == 1
    # the agent's side: every request came from the same client address (one TCP connection)
    lines = [line for line in audit_lines(tls_agent.process) if line["event"] == "resolve"]
    assert len(lines) == 10
    assert len({line["caller"]["address"] for line in lines}) == 1


def test_over_tls_without_the_token_is_unauthorized(tls_agent: TlsAgent) -> None:
    error = node("return agent.health();", url=tls_agent.url, ca=str(tls_agent.ca))["error"]
    assert (error["status"], error["slug"]) == (401, "unauthorized")


def test_over_tls_an_unknown_ca_is_refused(tls_agent: TlsAgent) -> None:
    error = node("return agent.health();", url=tls_agent.url, token=tls_agent.token)["error"]
    assert error["name"] == "AgentUnavailable"


# -- as a command --------------------------------------------------------------------------------


def test_the_command_prints_the_safe_dict(running_agent: AgentProcess) -> None:
    done = command("--socket", str(running_agent.socket_path), "resolve", q({"asset_name": WEB}))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["password"] == encode_base64(demo_password(WEB))


def test_the_command_exits_3_when_not_found(running_agent: AgentProcess) -> None:
    done = command("--socket", str(running_agent.socket_path), "resolve", q({"asset_name": "nope"}))
    assert done.returncode == 3
    assert done.stderr.startswith("credchain: not found: ")
    assert done.stdout == ""


def test_the_command_resolves_json_lines_from_stdin(running_agent: AgentProcess) -> None:
    stdin = f"{q({'asset_name': WEB})}\n{q({'asset_name': 'nope'})}\n"
    done = command("--socket", str(running_agent.socket_path), "resolve-many", stdin=stdin)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert {line["index"]: line["outcome"] for line in lines} == {0: "found", 1: "not_found"}


def test_the_command_over_tls_reads_the_token_from_a_file(tls_agent: TlsAgent) -> None:
    token_file = tls_agent.process.home / "agent.token"
    done = command(
        *("--url", tls_agent.url, "--ca", str(tls_agent.ca), "--token-file", str(token_file)),
        "health",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"


def test_the_command_refuses_a_query_that_is_not_json() -> None:
    done = command("resolve", "{asset_name")
    assert done.returncode == 2
    assert done.stderr.startswith("credchain: ")
