"""``credchain explain``: the chain walk's trace for one query, for people or ``--json``, never a
secret (issue 17 item 14). Child processes against the dev server over loopback TLS."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from credchain.devserver import DevServer, demo_password
from credchain.testing.process import run_credchain
from credchain.testing.secrets import assert_no_secrets

WriteConfig = Callable[[dict[str, object]], Path]
WEB = "web-01.corp.example.com"


@pytest.fixture
def vault_home(secret_server: DevServer, home: Path, write_config: WriteConfig) -> Path:
    entry = {"type": "thycotic", **secret_server.thycotic_table()}
    write_config({"chain": ["vault"], "providers": {"vault": entry}})
    return home


def secrets_of(server: DevServer) -> list[str]:
    return [demo_password(WEB), server.admin.password]


def test_json_is_the_trace_of_a_found_asset_without_its_secret(
    vault_home: Path, secret_server: DevServer
) -> None:
    done = run_credchain(vault_home, "explain", "--json", "--asset-name", WEB)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    trace = json.loads(done.stdout)
    assert trace["outcome"] == "found" and trace["query"]["asset_name"] == WEB
    [step] = trace["steps"]
    assert (step["entry"], step["type"], step["outcome"]) == ("vault", "thycotic", "found")
    assert_no_secrets(done.stdout, secrets_of(secret_server))


def test_a_query_on_stdin_explains_a_miss_with_exit_0(
    vault_home: Path, secret_server: DevServer
) -> None:
    done = run_credchain(vault_home, "explain", "--json", stdin='{"asset_name": "db-09"}')
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert trace["outcome"] == "not_found" and trace["steps"][0]["reason"]


def test_people_see_a_table_of_the_steps(vault_home: Path, secret_server: DevServer) -> None:
    done = run_credchain(vault_home, "explain", "--asset-name", WEB)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"# {WEB}: found"
    assert lines[1].split("\t") == ["entry", "type", "outcome", "reason", "ms"]
    assert lines[2].startswith("vault\tthycotic\tfound\t")
    assert_no_secrets(done.stdout + done.stderr, secrets_of(secret_server))


def test_an_unreachable_vault_is_a_step_not_an_error(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    entry = {"type": "thycotic", **secret_server.thycotic_table(port=1, retries=1)}
    write_config({"chain": ["vault"], "providers": {"vault": entry}})
    done = run_credchain(home, "explain", "--json", "--asset-name", WEB)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["steps"][0]["outcome"] == "unavailable"


def test_a_disabled_chain_exits_as_resolve_does(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    entry = {"type": "thycotic", **secret_server.thycotic_table()}
    write_config({"enabled": False, "chain": ["vault"], "providers": {"vault": entry}})
    done = run_credchain(home, "explain", "--error-json", "--asset-name", WEB)
    assert (done.returncode, done.stdout) == (6, "")
    assert json.loads(done.stderr)["error"] == "disabled"


def test_explain_is_a_core_command(home: Path) -> None:
    done = run_credchain(home, "--help")
    assert any(line.split()[:1] == ["explain"] for line in done.stdout.splitlines())
