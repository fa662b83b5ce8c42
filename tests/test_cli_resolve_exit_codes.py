"""``credchain resolve --json``: exit codes told apart by error type, ``--error-json`` and
``--timeout`` (issue 17 item 11), in child processes against the dev server over loopback TLS."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from credchain.agent.client import AgentRefused
from credchain.agent.problems import error_class
from credchain.cli.exits import classify
from credchain.devserver import DevServer, demo_password
from credchain.testing.process import run_credchain
from credchain.testing.secrets import assert_no_secrets

WriteConfig = Callable[[dict[str, object]], Path]
WEB = "web-01.corp.example.com"


def resolve(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_credchain(home, "resolve", "--json", *args, stdin=stdin)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: a vault that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def vault(write_config: WriteConfig, server: DevServer, **table: object) -> Path:
    entry = {"type": "thycotic", **server.thycotic_table(**table)}
    return write_config({"chain": ["vault"], "providers": {"vault": entry}})


@pytest.mark.parametrize(
    ("table", "top", "code", "slug"),
    [
        ({}, {}, 0, None),
        ({"port": "closed", "retries": 1, "connect_timeout": 2.0}, {}, 4, "vault-unavailable"),
        ({"password": "not-the-admin-password"}, {}, 5, "vault-error"),
        ({}, {"enabled": False}, 6, "disabled"),
    ],
    ids=["found", "unavailable", "refused", "disabled"],
)
def test_each_kind_of_failure_has_its_exit_code_and_slug(
    secret_server: DevServer,
    home: Path,
    write_config: WriteConfig,
    table: dict[str, object],
    top: dict[str, object],
    code: int,
    slug: str | None,
) -> None:
    if table.get("port") == "closed":
        table = {**table, "port": closed_port()}
    entry = {"type": "thycotic", **secret_server.thycotic_table(**table)}
    write_config({**top, "chain": ["vault"], "providers": {"vault": entry}})
    done = resolve(home, "--error-json", "--asset-name", WEB)
    assert done.returncode == code, done.stderr
    if slug is None:
        assert done.stderr == ""
        return
    assert done.stdout == "" and done.stderr.count("\n") == 1
    problem = json.loads(done.stderr)
    assert problem["error"] == slug and problem["exit_code"] == code
    assert problem["message"]
    assert_no_secrets(done.stderr, [demo_password(WEB), secret_server.admin.password])


def test_not_found_is_3_and_a_bad_query_1_in_json_too(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    vault(write_config, secret_server)
    missing = resolve(home, "--error-json", "--asset-name", "db-09")
    bad = resolve(home, "--error-json", stdin='{"hostname": "x"}')
    assert (missing.returncode, json.loads(missing.stderr)["error"]) == (3, "not-found")
    assert (bad.returncode, json.loads(bad.stderr)["error"]) == (1, "bad-query")


def test_a_misconfigured_chain_is_5(home: Path, write_config: WriteConfig) -> None:
    write_config({"chain": ["nowhere"], "providers": {"nowhere": {"type": "no-such-type"}}})
    done = resolve(home, "--asset-name", WEB)
    assert (done.returncode, done.stdout) == (5, "")
    assert done.stderr.startswith("credchain: error: ") and done.stderr.count("\n") == 1


def test_without_error_json_the_line_stays_as_it_was(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    vault(write_config, secret_server, port=closed_port(), retries=1, connect_timeout=2.0)
    done = resolve(home, "--asset-name", WEB)
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr.startswith("credchain: error: ") and "cannot reach" in done.stderr


def test_past_the_timeout_exits_7_with_nothing_on_stdout(
    secret_server: DevServer, home: Path, write_config: WriteConfig, hung_port: int
) -> None:
    vault(
        write_config,
        secret_server,
        port=hung_port,
        retries=1,
        connect_timeout=60.0,
        read_timeout=60.0,
        deadline=60.0,
    )
    done = resolve(home, "--timeout", "1", "--error-json", "--asset-name", WEB)
    assert (done.returncode, done.stdout) == (7, "")
    assert json.loads(done.stderr) == {
        "error": "timeout",
        "message": "no answer within --timeout 1 s",
        "exit_code": 7,
    }


def test_within_the_timeout_the_answer_is_the_same(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    vault(write_config, secret_server)
    bounded = resolve(home, "--timeout", "60", "--asset-name", WEB)
    unbounded = resolve(home, "--asset-name", WEB)
    assert bounded.returncode == 0 and bounded.stderr == ""
    assert bounded.stdout == unbounded.stdout


def test_help_lists_every_exit_code(home: Path) -> None:
    done = run_credchain(home, "resolve", "--help")
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("    ")}
    assert {str(code) for code in range(9)} <= listed


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("not-found", 3),
        ("bad-query", 1),
        ("disabled", 6),
        ("vault-unavailable", 4),
        ("bad-config", 5),
        ("vault-error", 5),
    ],
)
def test_an_agent_problem_exits_with_the_code_of_its_slug(slug: str, code: int) -> None:
    # what resolve --agent does with the error the client raises for the agent's problem
    assert classify(error_class(slug)("detail")) == (slug, code)


@pytest.mark.parametrize("slug", ["forbidden", "unauthorized"])
def test_a_refused_caller_exits_5_with_the_agents_slug(slug: str) -> None:
    assert classify(AgentRefused("no", slug=slug)) == (slug, 5)
