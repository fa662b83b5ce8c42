"""Fixtures for agent tests: a home configured for the session's dev server, a running agent.

Homes live under a short directory of their own: a Unix socket path holds at most 107 bytes,
and pytest's ``tmp_path`` can be longer.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from prometheus_client.parser import text_string_to_metric_families

from credchain.devserver import DevServer
from credchain.devserver.tls import make_identity
from credchain.testing.agent import AgentProcess

#: a demo asset the dev server has a secret for, and its SAFE dict's username
WEB = "web-01.corp.example.com"


@contextlib.contextmanager
def short_home() -> Iterator[Path]:
    """An empty credchain home (mode 0700) with a short path; removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="cc-agent-"))
    home = base / "home"
    home.mkdir(mode=0o700)
    try:
        yield home
    finally:
        shutil.rmtree(base, ignore_errors=True)


def write_config(
    home: Path,
    server: DevServer | None = None,
    *,
    agent: dict[str, Any] | None = None,
    chain: list[str] | None = None,
    providers: dict[str, Any] | None = None,
    vault: dict[str, Any] | None = None,
    top: dict[str, Any] | None = None,
) -> Path:
    """credchain.toml in ``home``: a thycotic entry ``vault`` for ``server`` (its table updated
    with ``vault``), the ``providers`` given, the ``[agent]`` table, top-level keys ``top``."""
    tables = dict(providers or {})
    if server is not None:
        tables.setdefault("vault", {"type": "thycotic", **server.thycotic_table(), **(vault or {})})
    document: dict[str, Any] = {**(top or {}), "chain": chain or list(tables), "providers": tables}
    if agent:
        document["agent"] = agent
    path = home / "credchain.toml"
    path.write_bytes(tomli_w.dumps(document).encode())
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def started_agent(
    server: DevServer,
    *args: str,
    agent: dict[str, Any] | None = None,
    files: Mapping[str, str] | None = None,
    **config: Any,
) -> Iterator[AgentProcess]:
    """An agent in a home of its own on ``server`` (``write_config``'s keywords), for a module;
    ``files`` are written in the home first (mode 0600).

    Vault retries are off, so an injected fault answers at once.
    """
    with short_home() as home:
        for name, text in (files or {}).items():
            path = home / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o600)
        config.setdefault("vault", {"retries": 0})
        write_config(home, server, agent=agent, **config)
        with AgentProcess(home, *args) as process:
            yield process


@dataclass(frozen=True)
class Reply:
    """One HTTP answer of the agent."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


class _UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("agent", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def ask(
    agent: AgentProcess | Path,
    method: str,
    path: str,
    body: bytes | str | Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """One request over the agent's Unix socket, on a connection of its own."""
    where = agent.socket_path if isinstance(agent, AgentProcess) else agent
    if isinstance(body, Mapping):
        body = json.dumps(body)
    connection = _UnixHTTP(where, timeout)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of sample ``name`` with ``labels`` in Prometheus text (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


@pytest.fixture
def agent_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty credchain home (mode 0700) with a short path, set as CREDCHAIN_HOME."""
    with short_home() as home:
        monkeypatch.setenv("CREDCHAIN_HOME", str(home))
        monkeypatch.delenv("CREDCHAIN_CONFIG", raising=False)
        yield home


@pytest.fixture
def write_agent_config(agent_home: Path) -> Callable[..., Path]:
    """``write(server, agent={...}, chain=[...], providers={...})``: credchain.toml in the home.

    By default: one thycotic entry ``vault`` for ``server``, and the ``[agent]`` table given.
    """

    def write(
        server: DevServer | None = None,
        *,
        agent: dict[str, Any] | None = None,
        chain: list[str] | None = None,
        providers: dict[str, Any] | None = None,
    ) -> Path:
        return write_config(agent_home, server, agent=agent, chain=chain, providers=providers)

    return write


@pytest.fixture
def running_agent(
    secret_server: DevServer, agent_home: Path, write_agent_config: Callable[..., Path]
) -> Iterator[AgentProcess]:
    """An agent on the session's dev server, its audit log in ``agent_home / 'audit.log'``."""
    write_agent_config(secret_server, agent={"audit_log": "audit.log"})
    with AgentProcess(agent_home) as agent:
        yield agent


def assert_problem(reply: Reply, slug: str, status: int) -> dict[str, Any]:
    """``reply`` is an RFC 9457 problem: its type, status, a title and a one-line detail."""
    assert reply.status == status, reply.body
    assert reply.content_type.split(";")[0] == "application/problem+json"
    body = reply.json()
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["type"] == f"urn:credchain:problem:{slug}"
    assert body["status"] == status
    assert body["title"] and isinstance(body["title"], str)
    detail = body["detail"]
    assert isinstance(detail, str) and detail and detail.isprintable()
    return dict(body)


@dataclass(frozen=True, slots=True)
class TlsAgent:
    """An agent with a TCP listener: where, the CA that signed its certificate, its token."""

    process: AgentProcess
    url: str
    ca: Path
    token: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def tls_agent_in(home: Path, server: DevServer) -> Iterator[TlsAgent]:
    """An agent for ``server`` in ``home`` (audit log ``audit.log``) that also listens on a
    loopback port: TLS with a throw-away CA, and a bearer token in a 0600 file."""
    identity = make_identity(home)
    token = secrets.token_urlsafe(32)
    token_file = home / "agent.token"
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    for attempt in range(3):  # the free port can be taken before the agent binds it
        port = _free_port()
        table = {
            "audit_log": "audit.log",
            "listen": f"127.0.0.1:{port}",
            "tls_cert": str(identity.server_cert),
            "tls_key": str(identity.server_key),
            "token_file": str(token_file),
        }
        write_config(home, server, agent=table)
        try:
            agent = AgentProcess(home)
        except RuntimeError as exc:
            if attempt == 2 or "cannot listen" not in str(exc):
                raise
            continue
        with agent:
            yield TlsAgent(agent, f"https://127.0.0.1:{port}", identity.ca_cert, token)
        return


@pytest.fixture
def tls_agent(secret_server: DevServer, agent_home: Path) -> Iterator[TlsAgent]:
    """``running_agent`` that also listens on TCP (``tls_agent_in``)."""
    with tls_agent_in(agent_home, secret_server) as agent:
        yield agent
