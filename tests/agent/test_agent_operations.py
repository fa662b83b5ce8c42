"""Running the agent: reloads (SIGHUP and POST /v1/reload), a draining stop, ``--check``,
systemd socket activation, and the audit file's rotation."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WEB, ask, assert_problem, short_home, write_config

from credchain.agent.client import Client
from credchain.devserver import DevServer
from credchain.devserver.demo_data import DEMO_ASSETS
from credchain.errors import CredentialNotFound
from credchain.testing.agent import AgentProcess
from credchain.testing.process import child_environ, run_credchain


@pytest.fixture(scope="module")
def home(secret_server_session: DevServer) -> Iterator[Path]:
    """A home for the module's agent; tests that change its config put the original back."""
    with short_home() as path:
        write_config(path, secret_server_session, vault={"retries": 0})
        yield path


@pytest.fixture(scope="module")
def agent(home: Path) -> Iterator[AgentProcess]:
    with AgentProcess(home) as process:
        yield process


@pytest.fixture
def restore(agent: AgentProcess, secret_server: DevServer) -> Iterator[None]:
    """After the test: the original config, reloaded."""
    yield
    write_config(agent.home, secret_server, vault={"retries": 0})
    assert "reloaded the configuration" in agent.reload()


def entries(agent: AgentProcess) -> list[str]:
    return [e["name"] for e in ask(agent, "GET", "/v1/health").json()["entries"]]


def test_sighup_takes_a_new_config_while_requests_run(
    agent: AgentProcess, secret_server: DevServer, restore: None
) -> None:
    """A burst of concurrent requests across a SIGHUP reload: none fails, the new chain serves."""
    reloaded = threading.Event()
    failures: list[str] = []
    done: list[int] = []

    def burst(worker: int) -> None:
        after = 0
        with agent.client(timeout=30) as client:
            for i in range(2000):  # bounded: the reload is over long before
                asset = DEMO_ASSETS[(worker * 7 + i) % len(DEMO_ASSETS)].fqdn
                try:
                    client.resolve({"asset_name": asset, "domain": f"burst-{i % 3}"})
                except CredentialNotFound:
                    pass  # an answer: Windows assets' secrets carry another name
                except Exception as exc:  # every failure is the finding
                    failures.append(f"{type(exc).__name__}: {exc}")
                if reloaded.is_set():
                    after += 1
                    if after >= 20:
                        break
        done.append(worker)

    threads = [threading.Thread(target=burst, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    second = {"type": "thycotic", **secret_server.thycotic_table(), "retries": 0}
    write_config(agent.home, secret_server, providers={"vault2": second}, chain=["vault", "vault2"])
    line = agent.reload()
    reloaded.set()
    for thread in threads:
        thread.join(60)
    assert "reload (SIGHUP): reloaded the configuration" in line
    assert sorted(done) == [0, 1, 2, 3]
    assert failures == []
    assert entries(agent) == ["vault", "vault2"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('chain = ["vault"\n', "credchain.toml"),
        ("[agent]\ncolour = 'red'\n", "colour"),
    ],
    ids=["bad-toml", "unknown-setting"],
)
def test_a_broken_config_keeps_the_old_one_serving(
    agent: AgentProcess, secret_server: DevServer, restore: None, text: str, why: str
) -> None:
    """SIGHUP with a config that does not load: refused, the line says why, the old one serves."""
    path = agent.home / "credchain.toml"
    path.write_text(path.read_text() + "\n" + text)
    line = agent.reload()
    assert "refused, keeping the running config" in line and why in line, line
    assert ask(agent, "POST", "/v1/resolve", {"asset_name": WEB}).status == 200
    assert entries(agent) == ["vault"]


def test_post_reload_answers_200(agent: AgentProcess, secret_server: DevServer) -> None:
    """POST /v1/reload by an allowed caller: 200, reloaded, nothing needing a restart."""
    reply = ask(agent, "POST", "/v1/reload")
    assert reply.status == 200
    body = reply.json()
    assert body["status"] == "reloaded" and body["restart_needed"] == []


def test_post_reload_of_a_broken_config_is_a_422_problem(
    agent: AgentProcess, secret_server: DevServer, restore: None
) -> None:
    """422 bad-config naming the bad key; the old config serves on."""
    path = agent.home / "credchain.toml"
    path.write_text(path.read_text() + "\n[agent]\ncolour = 'red'\n")
    body = assert_problem(ask(agent, "POST", "/v1/reload"), "bad-config", 422)
    assert "colour" in body["detail"]
    assert ask(agent, "POST", "/v1/resolve", {"asset_name": WEB}).status == 200


def test_a_reload_that_changes_the_socket_says_a_restart_is_needed(
    agent: AgentProcess, secret_server: DevServer, restore: None
) -> None:
    """Settings bound at start are named in restart_needed; the rest is taken."""
    write_config(agent.home, secret_server, agent={"threads": 3}, vault={"retries": 0})
    body = ask(agent, "POST", "/v1/reload").json()
    assert body["restart_needed"] == ["threads"]


def test_sigterm_lets_a_slow_request_finish_then_exits_0(
    secret_server: DevServer, agent_home: Path
) -> None:
    """A request in flight at SIGTERM completes; exit 0; the socket file is removed."""
    write_config(agent_home, secret_server)
    secret_server.add_fault("slow:GET api/v1/secrets:delay=0.5")
    process = AgentProcess(agent_home)
    answers: list[int] = []
    asking = threading.Thread(
        target=lambda: answers.append(
            ask(process, "POST", "/v1/resolve", {"asset_name": WEB}).status
        )
    )
    asking.start()
    deadline = time.monotonic() + 20
    while not secret_server.get_stats()["requests"].get("GET api/v1/secrets"):
        assert time.monotonic() < deadline, "the request never reached the vault"
        time.sleep(0.01)
    code = process.stop()
    asking.join(30)
    assert answers == [200]
    assert code == 0
    assert not process.socket_path.exists()
    assert "finishing the requests in flight" in process.stderr


# -- --check -------------------------------------------------------------------------------------


def test_check_exits_0_with_its_summary_line(home: Path) -> None:
    """--check loads everything and says what it would serve, in one line."""
    done = run_credchain(home, "agent", "--check")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.strip().splitlines()
    assert line.startswith(f"agent configuration OK ({home / 'credchain.toml'}): chain vault")
    assert f"unix:{home / 'agent.sock'}" in line and "audit log stderr" in line


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"listen": "127.0.0.1:8443"}, "listen"),
        ({"threads": 0}, "threads"),
    ],
    ids=["unknown-key", "listen-without-tls", "bad-value"],
)
def test_check_exits_1_naming_the_file_and_key(
    secret_server: DevServer, agent_home: Path, table: dict[str, object], key: str
) -> None:
    """A bad [agent] table: exit 1, one line with the config file and the key."""
    path = write_config(agent_home, secret_server, agent=table)
    done = run_credchain(agent_home, "agent", "--check")
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert str(path) in line and key in line, line


# -- systemd socket activation -------------------------------------------------------------------


def test_socket_activation_serves_the_socket_systemd_passed(
    secret_server: DevServer, agent_home: Path
) -> None:
    """LISTEN_FDS=1 with LISTEN_PID the agent's own pid: it serves fd 3 and binds nothing."""
    write_config(agent_home, secret_server)
    where = agent_home / "activated.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(where))
    listener.listen(16)
    fd = listener.fileno()
    # systemd's part: the socket at fd 3, LISTEN_PID the pid that then runs the agent (exec)
    wrapper = (
        "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); os.close(fd); "
        "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid())); "
        "os.execv(sys.argv[2], sys.argv[2:])"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", wrapper, str(fd), sys.executable, "-m", "credchain", "agent"],
        env=child_environ(agent_home),
        pass_fds=(fd,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.close()
    try:
        assert child.stderr is not None
        ready = child.stderr.readline()  # the agent prints its ready line first
        assert "listening on the socket systemd passed" in ready, ready
        with Client(where, timeout=30) as client:
            assert client.resolve({"asset_name": WEB}).username == "svc-scan"
        assert not (agent_home / "agent.sock").exists()
    finally:
        child.send_signal(signal.SIGTERM)
        code = child.wait(30)
    assert code == 0


# -- the audit file ------------------------------------------------------------------------------


def test_the_audit_file_rotates_at_audit_max_bytes_and_stays_0600(
    secret_server: DevServer, agent_home: Path
) -> None:
    """Past audit_max_bytes the file is rotated; every file is at most that size and 0600."""
    limit = 4096
    settings = {"audit_log": "audit.log", "audit_max_bytes": limit, "audit_backups": 2}
    write_config(agent_home, secret_server, agent=settings)
    with AgentProcess(agent_home) as process, process.client() as client:
        for _ in range(40):
            client.health()
            client.resolve({"asset_name": WEB})
    files = sorted(agent_home.glob("audit.log*"))
    assert [f.name for f in files] == ["audit.log", "audit.log.1", "audit.log.2"]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert 0 < path.stat().st_size <= limit
        assert all(json.loads(line)["event"] for line in path.read_text().splitlines())


def test_restart_needed_compares_with_what_the_process_started_with(
    agent: AgentProcess, secret_server: DevServer, restore: None
) -> None:
    """A setting changed and changed back needs no restart; one still changed does."""
    write_config(agent.home, secret_server, agent={"threads": 3}, vault={"retries": 0})
    assert ask(agent, "POST", "/v1/reload").json()["restart_needed"] == ["threads"]
    write_config(agent.home, secret_server, agent={"threads": 3}, vault={"retries": 0})
    assert ask(agent, "POST", "/v1/reload").json()["restart_needed"] == ["threads"]
    write_config(agent.home, secret_server, vault={"retries": 0})
    assert ask(agent, "POST", "/v1/reload").json()["restart_needed"] == []
