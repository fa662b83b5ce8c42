"""``credchain resolve --json --agent``: the machine contract of ``resolve --json``, answered by a
running agent (a real ``credchain agent`` process on the dev server), with the same lines."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import WEB

from credchain.cli import main
from credchain.devserver import DevServer, demo_password
from credchain.models import encode_base64
from credchain.testing.agent import AgentProcess
from credchain.testing.process import run_credchain
from credchain.testing.secrets import assert_no_secrets

WriteConfig = Callable[..., Path]
SAFE = {"username": "svc-scan", "password": encode_base64(demo_password(WEB))}


def resolve(
    home: Path, *args: str, stdin: str | None = None, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``credchain resolve --json ARGS`` in a child process, as a scanner runs it."""
    return run_credchain(home, "resolve", "--json", *args, stdin=stdin, extra=extra)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_found_prints_the_safe_dict_alone(running_agent: AgentProcess) -> None:
    done = resolve(running_agent.home, "--agent", "--asset-name", WEB)
    assert (done.returncode, done.stdout, done.stderr) == (0, json.dumps(SAFE) + "\n", "")


def test_found_asked_on_a_named_socket(running_agent: AgentProcess) -> None:
    done = resolve(
        running_agent.home, "--agent", str(running_agent.socket_path), "--asset-name", WEB
    )
    assert (done.returncode, done.stdout) == (0, json.dumps(SAFE) + "\n")


def test_the_query_can_come_on_stdin(running_agent: AgentProcess) -> None:
    done = resolve(running_agent.home, "--agent", stdin=json.dumps({"asset_name": WEB}))
    assert (done.returncode, done.stdout) == (0, json.dumps(SAFE) + "\n")


def test_not_found_exits_3_with_the_in_process_line(running_agent: AgentProcess) -> None:
    via_agent = resolve(running_agent.home, "--agent", "--asset-name", "db-09")
    in_process = resolve(running_agent.home, "--asset-name", "db-09")
    assert (via_agent.returncode, via_agent.stdout) == (3, "")
    assert via_agent.stderr.startswith("credchain: not found: ")
    assert via_agent.stderr.count("\n") == 1
    assert via_agent.stderr == in_process.stderr


@pytest.mark.parametrize(
    ("vault", "message", "code", "slug"),
    [
        (lambda: {"password": "not-the-admin-password"}, "refused", 5, "vault-error"),
        (
            lambda: {"port": closed_port(), "retries": 1, "connect_timeout": 2.0},
            "cannot reach",
            4,
            "vault-unavailable",
        ),
    ],
    ids=["login-refused", "unreachable"],
)
def test_a_vault_error_exits_as_in_process_with_the_same_line(
    secret_server: DevServer,
    agent_home: Path,
    write_agent_config: WriteConfig,
    vault: Callable[[], dict[str, object]],
    message: str,
    code: int,
    slug: str,
) -> None:
    table = {"type": "thycotic", **secret_server.thycotic_table(**vault())}
    write_agent_config(providers={"vault": table})
    with AgentProcess(agent_home):
        via_agent = resolve(agent_home, "--agent", "--asset-name", WEB)
        as_json = resolve(agent_home, "--agent", "--error-json", "--asset-name", WEB)
    in_process = resolve(agent_home, "--asset-name", WEB)
    assert (via_agent.returncode, via_agent.stdout) == (code, "")
    assert in_process.returncode == code
    problem = json.loads(as_json.stderr)
    assert (as_json.returncode, problem["error"], problem["exit_code"]) == (code, slug, code)
    assert via_agent.stderr.startswith("credchain: error: ") and message in via_agent.stderr
    assert via_agent.stderr.count("\n") == 1
    assert via_agent.stderr == in_process.stderr


@pytest.mark.parametrize(
    "stdin",
    ["not json", '{"hostname": "x"}', "[]", '{"asset_name": 5}', '{"asset_name": "a\\u0000b"}'],
)
def test_a_bad_query_exits_1_with_the_in_process_line(
    running_agent: AgentProcess, stdin: str
) -> None:
    via_agent = resolve(running_agent.home, "--agent", stdin=stdin)
    in_process = resolve(running_agent.home, stdin=stdin)
    assert (via_agent.returncode, via_agent.stdout) == (1, "")
    assert via_agent.stderr.startswith("credchain: error: ")
    assert via_agent.stderr.count("\n") == 1
    assert via_agent.stderr == in_process.stderr


def test_no_agent_exits_4_naming_the_socket(agent_home: Path) -> None:
    missing = agent_home / "none.sock"
    done = resolve(agent_home, "--agent", str(missing), "--asset-name", WEB)
    assert (done.returncode, done.stdout) == (4, "")  # try later
    assert done.stderr == f"credchain: error: no agent answers at unix:{missing}: " + (
        "No such file or directory\n"
    )


def test_a_dead_agents_socket_file_exits_4_naming_it(agent_home: Path) -> None:
    stale = agent_home / "agent.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))  # bound, never listening: what an agent killed with -9 leaves
    done = resolve(agent_home, "--agent", "--asset-name", WEB)
    assert (done.returncode, done.stdout) == (4, "")
    as_json = resolve(agent_home, "--agent", "--error-json", "--asset-name", WEB)
    assert json.loads(as_json.stderr)["error"] == "agent-unavailable"
    assert (
        done.stderr == f"credchain: error: no agent answers at unix:{stale}: Connection refused\n"
    )


def test_a_caller_the_agent_refuses_exits_5_with_its_reason(
    secret_server: DevServer, agent_home: Path, write_agent_config: WriteConfig
) -> None:
    write_agent_config(secret_server, agent={"allow_uids": [], "allow_gids": [4242424]})
    with AgentProcess(agent_home):
        done = resolve(agent_home, "--agent", "--asset-name", WEB)
        as_json = resolve(agent_home, "--agent", "--error-json", "--asset-name", WEB)
    assert (done.returncode, done.stdout) == (5, "")  # refused
    assert json.loads(as_json.stderr)["error"] == "forbidden"
    assert done.stderr.startswith("credchain: error: the agent refused this caller: uid ")
    assert "is not allowed" in done.stderr and done.stderr.count("\n") == 1


def test_the_environment_names_the_socket_of_a_bare_agent_flag(
    secret_server: DevServer, agent_home: Path, write_agent_config: WriteConfig
) -> None:
    write_agent_config(secret_server)
    elsewhere = agent_home / "elsewhere.sock"
    with AgentProcess(agent_home, socket_path=elsewhere):
        done = resolve(
            agent_home,
            "--agent",
            "--asset-name",
            WEB,
            extra={"CREDCHAIN_AGENT_SOCKET": str(elsewhere)},
        )
    assert (done.returncode, done.stdout, done.stderr) == (0, json.dumps(SAFE) + "\n", "")


def test_the_environment_alone_does_not_switch_to_the_agent(
    secret_server: DevServer, agent_home: Path, write_agent_config: WriteConfig
) -> None:
    write_agent_config(secret_server)  # no agent runs: only the chain walked here can answer
    missing = agent_home / "none.sock"
    done = resolve(agent_home, "--asset-name", WEB, extra={"CREDCHAIN_AGENT_SOCKET": str(missing)})
    assert (done.returncode, done.stdout, done.stderr) == (0, json.dumps(SAFE) + "\n", "")


def test_stderr_never_carries_a_secret(
    running_agent: AgentProcess, secret_server: DevServer
) -> None:
    home = running_agent.home
    runs = [
        resolve(home, "--agent", "--asset-name", WEB),
        resolve(home, "--agent", "--asset-name", "db-09"),
        resolve(home, "--agent", stdin='{"hostname": "x"}'),
        run_credchain(home, "--debug", "resolve", "--json", "--agent", "--asset-name", WEB),
        run_credchain(home, "resolve", "--agent", "--asset-name", WEB),  # the people view
    ]
    assert [done.returncode for done in runs] == [0, 3, 1, 0, 0]
    stderr = "\n".join(done.stderr for done in runs)
    assert_no_secrets(stderr, [demo_password(WEB), secret_server.admin.password])
    assert_no_secrets(runs[4].stdout, [demo_password(WEB)])


def test_the_agent_path_imports_no_server_resolver_or_rich(running_agent: AgentProcess) -> None:
    done = resolve(
        running_agent.home, "--agent", "--asset-name", WEB, extra={"PYTHONPROFILEIMPORTTIME": "1"}
    )
    assert done.returncode == 0, done.stderr
    imported = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "credchain.agent.client" in imported  # the measurement did see the agent path
    heavy = {"aiohttp", "prometheus_client", "rich", "credchain.resolver", "credchain.plugins"}
    assert heavy & imported == set()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--inventory", __file__), "--agent takes no --inventory"),
        (("--config", "x.toml", "--asset-name", WEB), "--agent takes no --config"),
    ],
)
def test_agent_refuses_flags_it_cannot_honour(args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(main, ["resolve", "--agent", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_explain_asks_the_agent_for_the_same_trace(
    running_agent: AgentProcess, secret_server: DevServer
) -> None:
    home = running_agent.home
    via_agent = run_credchain(home, "explain", "--json", "--agent", "--asset-name", WEB)
    in_process = run_credchain(home, "explain", "--json", "--asset-name", WEB)
    assert via_agent.returncode == in_process.returncode == 0, via_agent.stderr
    steps = [
        [(s["entry"], s["outcome"]) for s in json.loads(done.stdout)["steps"]]
        for done in (via_agent, in_process)
    ]
    assert steps[0] == steps[1] and steps[0][-1][1] == "found"
    assert_no_secrets(via_agent.stdout, [demo_password(WEB), secret_server.admin.password])
