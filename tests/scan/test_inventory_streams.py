"""``credchain resolve --inventory`` from a stream: ``-`` and ``/dev/stdin`` on a pipe, extra keys
ignored alike in CSV and JSON lines, exit 8 when lines failed (issue 17 item 12). Child
processes against the dev server over loopback TLS, the inventory on their stdin (a pipe)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from credchain.devserver import DevServer, demo_password
from credchain.testing.process import run_credchain
from credchain.testing.secrets import assert_no_secrets

WriteConfig = Callable[[dict[str, object]], Path]
WEB, DB = "web-01.corp.example.com", "db-01.corp.example.com"
CSV = f"asset_name,owner\n{WEB},ops\n{DB},dba\n"
JSONL = json.dumps({"asset_name": WEB, "owner": "ops"}) + "\n" + json.dumps({"asset_name": DB})


@pytest.fixture
def home_with_vault(secret_server: DevServer, home: Path, write_config: WriteConfig) -> Path:
    entry = {"type": "thycotic", **secret_server.thycotic_table(multiple_matches="first")}
    write_config({"chain": ["vault"], "providers": {"vault": entry}})
    return home


def scan(home: Path, path: str, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_credchain(home, "resolve", "--inventory", path, *args, stdin=stdin)


def found(done: subprocess.CompletedProcess[str]) -> set[str]:
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return {r["query"]["asset_name"] for r in records if r["outcome"] == "found"}


@pytest.mark.parametrize("path", ["-", "/dev/stdin"])
@pytest.mark.parametrize("text", [CSV, JSONL], ids=["csv", "jsonl"])
def test_an_inventory_on_a_pipe_is_resolved(home_with_vault: Path, path: str, text: str) -> None:
    done = scan(home_with_vault, path, text)
    assert done.returncode == 0, done.stderr
    assert found(done) == {WEB, DB}
    assert "2 assets in" in done.stderr


def test_csv_and_jsonl_ignore_extra_keys_alike_with_one_warning(home_with_vault: Path) -> None:
    runs = {
        name: scan(home_with_vault, "-", text) for name, text in (("csv", CSV), ("jsonl", JSONL))
    }
    for name, done in runs.items():
        warnings = [line for line in done.stderr.splitlines() if "ignored keys" in line]
        assert len(warnings) == 1, (name, done.stderr)
        assert "<stdin>:1: ignored keys that are no query keys: owner" in warnings[0]
        assert found(done) == {WEB, DB}


def test_failed_lines_exit_8_after_the_whole_scan(home_with_vault: Path) -> None:
    text = JSONL + "\nnot json\n" + json.dumps({"owner": "nobody"}) + "\n"
    done = scan(home_with_vault, "-", text)
    assert done.returncode == 8, done.stderr
    records = {r["line"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert records[3]["error"].startswith("<stdin>:3: not JSON")
    assert records[4]["outcome"] == "error"
    assert found(done) == {WEB, DB} and "2 failed" in done.stderr


def test_not_found_lines_alone_are_no_failure(home_with_vault: Path) -> None:
    done = scan(home_with_vault, "-", "asset_name\nnowhere-01\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "not_found"


def test_show_secrets_on_a_pipe_keeps_them_on_stdout(
    home_with_vault: Path, secret_server: DevServer
) -> None:
    done = scan(home_with_vault, "-", CSV, "--show-secrets")
    assert done.returncode == 0, done.stderr
    assert_no_secrets(done.stderr, [demo_password(WEB), secret_server.admin.password])
    assert all("credential" in json.loads(line) for line in done.stdout.splitlines())


@pytest.mark.parametrize(
    "args",
    [
        ("--show-secrets", "--asset-name", WEB),
        ("--show-secrets", "--json", "--asset-name", WEB),
        ("--output", "out.jsonl", "--asset-name", WEB),
        ("--inventory", "-", "--timeout", "5"),
    ],
    ids=["show-secrets", "show-secrets-json", "output", "inventory-timeout"],
)
def test_flags_of_a_scan_without_inventory_are_usage_errors(
    home_with_vault: Path, args: tuple[str, ...], secret_server: DevServer
) -> None:
    done = run_credchain(home_with_vault, "resolve", *args, stdin="")
    assert (done.returncode, done.stdout) == (2, "")
    assert "Usage:" in done.stderr
    assert_no_secrets(done.stderr, [demo_password(WEB)])
