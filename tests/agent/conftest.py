"""Fixtures for agent tests: a home configured for the session's dev server, a running agent.

Homes live under a short directory of their own: a Unix socket path holds at most 107 bytes,
and pytest's ``tmp_path`` can be longer.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from credchain.devserver import DevServer
from credchain.devserver.tls import make_identity
from credchain.testing.agent import AgentProcess

#: a demo asset the dev server has a secret for, and its SAFE dict's username
WEB = "web-01.corp.example.com"


@pytest.fixture
def agent_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty credchain home (mode 0700) with a short path, set as CREDCHAIN_HOME."""
    base = Path(tempfile.mkdtemp(prefix="cc-agent-"))
    home = base / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("CREDCHAIN_HOME", str(home))
    monkeypatch.delenv("CREDCHAIN_CONFIG", raising=False)
    yield home
    shutil.rmtree(base, ignore_errors=True)


def write_config_in(
    home: Path,
    server: DevServer | None = None,
    *,
    agent: dict[str, Any] | None = None,
    chain: list[str] | None = None,
    providers: dict[str, Any] | None = None,
) -> Path:
    """credchain.toml in ``home``: by default one thycotic entry ``vault`` for ``server``, and
    the ``[agent]`` table given."""
    tables = dict(providers or {})
    if server is not None:
        tables.setdefault("vault", {"type": "thycotic", **server.thycotic_table()})
    document: dict[str, Any] = {"chain": chain or list(tables), "providers": tables}
    if agent:
        document["agent"] = agent
    path = home / "credchain.toml"
    path.write_bytes(tomli_w.dumps(document).encode())
    path.chmod(0o600)
    return path


@pytest.fixture
def write_agent_config(agent_home: Path) -> Callable[..., Path]:
    """``write(server, agent=..., chain=..., providers=...)``: ``write_config_in`` the home."""
    return functools.partial(write_config_in, agent_home)


@pytest.fixture
def running_agent(
    secret_server: DevServer, agent_home: Path, write_agent_config: Callable[..., Path]
) -> Iterator[AgentProcess]:
    """An agent on the session's dev server, its audit log in ``agent_home / 'audit.log'``."""
    write_agent_config(secret_server, agent={"audit_log": "audit.log"})
    with AgentProcess(agent_home) as agent:
        yield agent


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


@contextmanager
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
        write_config_in(home, server, agent=table)
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
