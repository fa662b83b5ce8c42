"""Who may ask the agent, how its socket is made, TCP with TLS and a token, and what never leaks.

Callers with another uid are children that drop to ``nobody`` (uid and groups): those tests need
root. ``nobody`` cannot enter /root, so such a child runs curl, not this virtualenv's python.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import WEB, ask, assert_problem, metric, short_home, started_agent, write_config

from credchain.agent.client import Client
from credchain.devserver import DevServer
from credchain.devserver.demo_data import DEMO_ASSETS, demo_password
from credchain.devserver.tls import make_identity
from credchain.errors import CredchainError
from credchain.testing.agent import AgentProcess
from credchain.testing.process import run_credchain

CURL = "/usr/bin/curl"
NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="dropping a child to another uid (nobody) needs root"
)
needs_curl = pytest.mark.skipif(not os.access(CURL, os.X_OK), reason=f"{CURL} is not installed")


@pytest.fixture(scope="module")
def open_dir() -> Iterator[Path]:
    """A directory anyone may traverse (0711), for sockets another uid is to reach."""
    path = Path(tempfile.mkdtemp(prefix="cc-sock-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def curl(
    where: Path, path: str, body: str | None = None, *, as_nobody: bool = False
) -> subprocess.CompletedProcess[str]:
    """curl over the Unix socket ``where``; as ``nobody`` (uid, gid and no other groups)."""
    data = ["-d", body] if body is not None else []
    drop: dict[str, Any] = (
        {"user": NOBODY, "group": NOBODY, "extra_groups": [], "cwd": "/"} if as_nobody else {}
    )
    return subprocess.run(
        [CURL, "-sS", "--unix-socket", str(where), *data, f"http://agent{path}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        **drop,
    )


def curl_resolve(where: Path, *, as_nobody: bool = False) -> tuple[int, Any]:
    """(curl's exit code, the answer's JSON or None)."""
    done = curl(where, "/v1/resolve", json.dumps({"asset_name": WEB}), as_nobody=as_nobody)
    return done.returncode, json.loads(done.stdout) if done.stdout else None


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the socket ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agent(secret_server_session: DevServer) -> Iterator[AgentProcess]:
    with started_agent(secret_server_session, agent={"audit_log": "audit.log"}) as process:
        yield process


def test_the_socket_is_0600_by_default(agent: AgentProcess) -> None:
    """Only the agent's own user may connect."""
    assert stat.S_ISSOCK(agent.socket_path.lstat().st_mode)
    assert mode(agent.socket_path) == 0o600
    assert agent.socket_path.stat().st_uid == os.getuid()


def test_socket_group_makes_it_0660_owned_by_that_group(
    secret_server: DevServer, open_dir: Path
) -> None:
    """With socket_group the group may connect as well."""
    where = open_dir / "group.sock"
    with short_home() as home:
        write_config(home, secret_server, agent={"socket_group": NOBODY})
        with AgentProcess(home, socket_path=where):
            assert mode(where) == 0o660
            assert where.stat().st_gid == NOBODY


def test_a_stale_socket_file_is_replaced(secret_server: DevServer, agent_home: Path) -> None:
    """A socket nobody listens on (an agent that died) is taken over."""
    where = agent_home / "agent.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(where))
    stale.close()
    write_config(agent_home, secret_server)
    with AgentProcess(agent_home) as process, process.client() as client:
        assert client.health()["status"] == "ok"


def test_a_live_agents_socket_is_not_taken(agent: AgentProcess) -> None:
    """A second agent on the same socket exits 1 with one clear line; the first serves on."""
    done = run_credchain(agent.home, "agent", "--socket", str(agent.socket_path), timeout=30)
    assert done.returncode == 1
    assert "another agent is listening on this socket" in done.stderr
    assert str(agent.socket_path) in done.stderr
    assert ask(agent, "GET", "/v1/health").status == 200


def test_a_regular_file_at_the_socket_path_is_refused_not_deleted(
    secret_server: DevServer, agent_home: Path
) -> None:
    """The agent never deletes a file that is not a socket."""
    where = agent_home / "precious.txt"
    where.write_text("keep me")
    write_config(agent_home, secret_server)
    done = run_credchain(agent_home, "agent", "--socket", str(where), timeout=30)
    assert done.returncode == 1
    assert "exists and is not a socket" in done.stderr
    assert where.read_text() == "keep me"


def test_a_socket_path_over_107_bytes_is_a_clear_error(
    secret_server: DevServer, agent_home: Path
) -> None:
    """sun_path holds 107 bytes: a longer path is refused before binding, saying so."""
    where = agent_home / ("s" * 120 + ".sock")
    write_config(agent_home, secret_server)
    done = run_credchain(agent_home, "agent", "--socket", str(where), timeout=30)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "longer than 107 bytes" in line and "--socket" in line
    assert not where.exists()


# -- callers of another uid --------------------------------------------------------------------


@needs_root
@needs_curl
def test_another_uid_cannot_connect_to_a_0600_socket(
    secret_server: DevServer, open_dir: Path
) -> None:
    """The default socket mode keeps nobody out before the agent even hears of them."""
    where = open_dir / "private.sock"
    with short_home() as home:
        write_config(home, secret_server)
        with AgentProcess(home, socket_path=where):
            code, answer = curl_resolve(where, as_nobody=True)
    assert code == 7 and answer is None  # curl: could not connect


@pytest.fixture(scope="module")
def group_agent(secret_server_session: DevServer, open_dir: Path) -> Iterator[AgentProcess]:
    """An agent whose socket nobody's group may connect to; tests change its policy by reload."""
    where = open_dir / "shared.sock"
    with short_home() as home:
        write_config(home, secret_server_session, agent=policy())
        with AgentProcess(home, socket_path=where) as process:
            yield process


def policy(**allow: Any) -> dict[str, Any]:
    return {"socket_group": NOBODY, "audit_log": "audit.log", **allow}


def use_policy(agent: AgentProcess, server: DevServer, **allow: Any) -> None:
    write_config(agent.home, server, agent=policy(**allow))
    line = agent.reload()
    assert "reloaded the configuration" in line and "restart" not in line, line


def audit_lines(agent: AgentProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (agent.home / "audit.log").read_text().splitlines()]


@needs_root
@needs_curl
def test_another_uid_is_refused_with_403_an_audit_line_and_a_metric(
    group_agent: AgentProcess, secret_server: DevServer
) -> None:
    """nobody connects through the group, and gets 403, an audit event and a count."""
    use_policy(group_agent, secret_server)
    before = metric(
        ask(group_agent, "GET", "/metrics").body.decode(),
        "credchain_refused_callers_total",
        why="policy",
    )
    done = curl(
        group_agent.socket_path, "/v1/resolve", json.dumps({"asset_name": WEB}), as_nobody=True
    )
    assert done.returncode == 0
    problem = json.loads(done.stdout)
    assert problem["type"] == "urn:credchain:problem:forbidden" and problem["status"] == 403
    assert f"uid {NOBODY} is not allowed" in problem["detail"]
    refused = [e for e in audit_lines(group_agent) if e["event"] == "refused"]
    assert refused and refused[-1]["caller"]["uid"] == NOBODY
    assert refused[-1]["outcome"] == "refused" and refused[-1]["status"] == 403
    after = metric(
        ask(group_agent, "GET", "/metrics").body.decode(),
        "credchain_refused_callers_total",
        why="policy",
    )
    assert after == before + 1


@needs_root
@needs_curl
def test_a_caller_in_allow_gids_may_ask(
    group_agent: AgentProcess, secret_server: DevServer
) -> None:
    """allow_gids lets nobody's group in."""
    use_policy(group_agent, secret_server, allow_gids=[NOBODY])
    code, answer = curl_resolve(group_agent.socket_path, as_nobody=True)
    assert code == 0 and answer["username"] == "svc-scan"


@needs_root
@needs_curl
def test_a_caller_in_allow_uids_may_ask(
    group_agent: AgentProcess, secret_server: DevServer
) -> None:
    """allow_uids lets nobody in; the agent's own uid is then no longer allowed by default."""
    use_policy(group_agent, secret_server, allow_uids=[NOBODY])
    code, answer = curl_resolve(group_agent.socket_path, as_nobody=True)
    assert code == 0 and answer["username"] == "svc-scan"
    assert_problem(ask(group_agent, "POST", "/v1/resolve", {"asset_name": WEB}), "forbidden", 403)


def sha256_of(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@needs_curl
@pytest.mark.parametrize(
    "entry",
    [CURL, {"path": CURL, "sha256": "<curl>"}],
    ids=["path", "path-and-sha256"],
)
def test_allow_executables_lets_that_executable_in_and_no_other(
    group_agent: AgentProcess, secret_server: DevServer, entry: Any
) -> None:
    """curl is allowed; this test's python, same uid, is refused."""
    if isinstance(entry, dict):
        entry = {**entry, "sha256": sha256_of(CURL)}
    use_policy(group_agent, secret_server, allow_executables=[entry])
    code, answer = curl_resolve(group_agent.socket_path)
    assert code == 0 and answer["username"] == "svc-scan"
    body = assert_problem(
        ask(group_agent, "POST", "/v1/resolve", {"asset_name": WEB}), "forbidden", 403
    )
    assert "is not allowed" in body["detail"]


@needs_curl
def test_allow_executables_refuses_a_mismatching_sha256(
    group_agent: AgentProcess, secret_server: DevServer
) -> None:
    """The right path with another file's hash is refused."""
    use_policy(group_agent, secret_server, allow_executables=[{"path": CURL, "sha256": "0" * 64}])
    code, answer = curl_resolve(group_agent.socket_path)
    assert code == 0
    assert answer["type"] == "urn:credchain:problem:forbidden" and answer["status"] == 403


# -- TCP with TLS and a bearer token -----------------------------------------------------------

TOKEN = "tok-" + "9f3b1c7e5a" * 4


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_token(home: Path, mode: int = 0o600) -> None:
    path = home / "agent.token"
    path.write_text(TOKEN + "\n")
    path.chmod(mode)


@dataclass(frozen=True)
class TcpAgent:
    process: AgentProcess
    url: str
    cafile: Path


@pytest.fixture(scope="module")
def tcp_agent(secret_server_session: DevServer) -> Iterator[TcpAgent]:
    """An agent listening on loopback TCP too, with a throw-away certificate and the token."""
    with short_home() as home:
        identity = make_identity(home)
        write_token(home)
        settings = {
            "listen": f"127.0.0.1:{free_port()}",
            "tls_cert": str(identity.server_cert),
            "tls_key": str(identity.server_key),
            "token_file": "agent.token",
            "audit_log": "audit.log",
        }
        write_config(home, secret_server_session, agent=settings, vault={"retries": 0})
        with AgentProcess(home) as process:
            yield TcpAgent(process, "https://" + settings["listen"], identity.ca_cert)


def https(agent: TcpAgent, path: str, authorization: str | None) -> tuple[int, Any]:
    host, port = agent.url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(agent.cafile))
    connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
    headers = {"Authorization": authorization} if authorization else {}
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_tcp_with_the_bearer_token_answers(tcp_agent: TcpAgent, secret_server: DevServer) -> None:
    """Over HTTPS, the Python client with the token resolves."""
    url, cafile = tcp_agent.url, tcp_agent.cafile
    with Client(url=url, token=TOKEN, cafile=cafile) as client:
        assert client.resolve({"asset_name": WEB}).username == "svc-scan"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-000000000", f"Basic {TOKEN}"])
def test_tcp_without_the_token_is_401(tcp_agent: TcpAgent, authorization: str | None) -> None:
    """No token, a wrong one or another scheme: 401 problem with WWW-Authenticate."""
    status, body = https(tcp_agent, "/v1/health", authorization)
    assert status == 401
    assert body["type"] == "urn:credchain:problem:unauthorized"


def test_the_python_client_with_a_wrong_token_raises(tcp_agent: TcpAgent) -> None:
    url, cafile = tcp_agent.url, tcp_agent.cafile
    with Client(url=url, token="x" * 20, cafile=cafile) as client, pytest.raises(CredchainError):
        client.health()


def test_listen_without_tls_and_a_token_is_a_clear_error(
    secret_server: DevServer, agent_home: Path
) -> None:
    """--listen needs tls_cert, tls_key and token_file; the one-line error names them."""
    write_config(agent_home, secret_server, agent={"tls_cert": "agent.crt"})
    done = run_credchain(agent_home, "agent", "--listen", f"127.0.0.1:{free_port()}", timeout=30)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "listen needs tls_key, token_file" in line


def test_a_token_file_others_may_read_is_refused(
    secret_server: DevServer, agent_home: Path
) -> None:
    """A 0644 token file: exit 1, naming the file and the mode to fix."""
    identity = make_identity(agent_home)
    write_token(agent_home, 0o644)
    settings = {
        "listen": f"127.0.0.1:{free_port()}",
        "tls_cert": str(identity.server_cert),
        "tls_key": str(identity.server_key),
        "token_file": "agent.token",
    }
    write_config(agent_home, secret_server, agent=settings)
    done = run_credchain(agent_home, "agent", timeout=30)
    assert done.returncode == 1
    assert "0644" in done.stderr and "agent.token" in done.stderr


# -- nothing secret leaks ----------------------------------------------------------------------


def secrets(server: DevServer) -> list[str]:
    """Every demo password, plain and base64, the admin's password and the bearer token."""
    plain = [demo_password(a.fqdn) for a in DEMO_ASSETS]
    plain += [demo_password(a.fqdn + ":root") for a in DEMO_ASSETS]
    plain += [server.admin.password, TOKEN]
    return plain + [base64.b64encode(p.encode()).decode() for p in plain]


def test_no_secret_appears_outside_a_resolve_answer(
    tcp_agent: TcpAgent, secret_server: DevServer
) -> None:
    """stderr, the audit log, /metrics, /v1/health, /v1/explain and problem bodies hold no
    password and no token; the SAFE dict's password is only in a 200 resolve body."""
    seen: list[str] = []
    answer = ask(tcp_agent.process, "POST", "/v1/resolve", {"asset_name": WEB})
    assert answer.status == 200
    for asset in DEMO_ASSETS[:6]:
        seen.append(
            ask(tcp_agent.process, "POST", "/v1/explain", {"asset_name": asset.fqdn}).body.decode()
        )
    seen.append(
        ask(tcp_agent.process, "POST", "/v1/resolve", {"asset_name": "nope.example"}).body.decode()
    )
    seen.append(
        ask(
            tcp_agent.process, "POST", "/v1/resolve", f'{{"asset_name": "{TOKEN}", "x": 1}}'
        ).body.decode()
    )
    secret_server.add_fault('body:GET api/v1/secrets:status=400,body={"message": "no"}')
    seen.append(
        ask(
            tcp_agent.process, "POST", "/v1/resolve", {"asset_name": "db-01.corp.example.com"}
        ).body.decode()
    )
    secret_server.clear_faults()
    secret_server.add_fault("503:*")
    seen.append(
        ask(
            tcp_agent.process, "POST", "/v1/resolve", {"asset_name": "db-02.corp.example.com"}
        ).body.decode()
    )
    secret_server.clear_faults()
    many = "".join(json.dumps({"asset_name": a.fqdn, "x": 1}) + "\n" for a in DEMO_ASSETS[:3])
    seen.append(ask(tcp_agent.process, "POST", "/v1/resolve-many", many).body.decode())
    _, body = https(tcp_agent, "/v1/health", "Bearer " + TOKEN[:-1] + "X")
    seen.append(json.dumps(body))
    seen.append(ask(tcp_agent.process, "GET", "/v1/health").body.decode())
    seen.append(ask(tcp_agent.process, "GET", "/metrics").body.decode())
    seen.append(tcp_agent.process.stderr)
    seen.append((tcp_agent.process.home / "audit.log").read_text())
    captured = "\n".join(seen)
    for secret in secrets(secret_server):
        assert secret not in captured, f"a secret leaked ({secret[:3]}...)"
