"""Every ``credchain`` command, with and without ``--debug``, failures included: no canary shows.

Each run is scanned in its stdout (but for the answer of ``resolve --json`` and of
``--inventory --show-secrets``), its stderr, its exception's text, repr and traceback, the log
records at DEBUG, the files left under the home, an ``--output`` file and a custom-script
worker's environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from leak_helpers import (
    CLIENT_ASSET,
    DOMAIN_ASSET,
    ENV_ASSET,
    MISSING,
    PLANTED,
    SCRIPT_ASSET,
    SCRIPT_ENV,
    SCRIPT_GARBAGE,
    SCRIPT_NO_USERNAME,
    SCRIPT_RAISES,
    VAULT_ASSET,
    Plant,
    TokenLog,
    credential_canaries,
    demo_canaries,
    inventory_lines,
    invoke,
    safe_json,
    scan,
    scan_files,
    write_home,
)

from credchain.devserver import DevServer
from credchain.models import encode_base64

FOUND = (VAULT_ASSET, CLIENT_ASSET, ENV_ASSET, DOMAIN_ASSET, SCRIPT_ASSET)
INVENTORY = (*FOUND, SCRIPT_RAISES, SCRIPT_GARBAGE, MISSING)
SEARCH = "GET api/v1/secrets"


@dataclass(frozen=True)
class Case:
    """One command line; ``{inventory}``, ``{output}``, ``{broken}`` and ``{add}`` are filled in."""

    args: tuple[str, ...]
    code: int = 0
    #: assets whose credentials are the command's answer on stdout (or in ``--output``)
    answers: tuple[str, ...] = ()
    stdin: str | None = None
    #: "good", "wrong password" (the vault entry's stored password) or "broken script"
    home: str = "good"
    fault: str | None = None
    #: "warm": resolve once first (tokens granted, cached); "revoke": warm, then revoke them
    before: str | None = None
    #: canaries that ``--debug`` shows on stderr because the admin asked for them (issue 17:
    #: a custom script's own exception message, under ``credchain --debug test`` only)
    debug_shows: tuple[str, ...] = ()


def resolve_json(asset: str, code: int = 0, **kw: Any) -> Case:
    return Case(("resolve", "--json", "--asset-name", asset), code=code, **kw)


CASES: dict[str, Case] = {
    # the answers
    "resolve --json (vault)": resolve_json(VAULT_ASSET, answers=(VAULT_ASSET,)),
    "resolve --json (env password)": resolve_json(ENV_ASSET, answers=(ENV_ASSET,)),
    "resolve --json (script)": resolve_json(SCRIPT_ASSET, answers=(SCRIPT_ASSET,)),
    "resolve --json (domain)": resolve_json(DOMAIN_ASSET, answers=(DOMAIN_ASSET,)),
    "resolve --json (stdin, client secret)": Case(
        ("resolve", "--json"),
        stdin=json.dumps({"asset_name": CLIENT_ASSET}),
        answers=(CLIENT_ASSET,),
    ),
    "resolve": Case(("resolve", "--asset-name", VAULT_ASSET)),
    "resolve (script)": Case(("resolve", "--asset-name", SCRIPT_ASSET)),
    # INVENTORY holds two script failures: exit 8, lines failed
    "resolve --inventory": Case(("resolve", "--inventory", "{inventory}"), code=8),
    "resolve --inventory --show-secrets": Case(
        ("resolve", "--inventory", "{inventory}", "--show-secrets"), code=8, answers=FOUND
    ),
    "resolve --inventory --output": Case(
        ("resolve", "--inventory", "{inventory}", "--output", "{output}"), code=8
    ),
    "resolve --inventory --output --show-secrets": Case(
        ("resolve", "--inventory", "{inventory}", "--output", "{output}", "--show-secrets"),
        code=8,
        answers=FOUND,
    ),
    # the admin commands
    "status": Case(("status",)),
    "status --json": Case(("status", "--json")),
    "test": Case(("test",)),
    "test --asset-name": Case(("test", "--asset-name", VAULT_ASSET)),
    "test vault": Case(("test", "vault", "--asset-name", VAULT_ASSET)),
    "test client": Case(("test", "client", "--asset-name", CLIENT_ASSET)),
    "test script": Case(("test", "script", "--asset-name", SCRIPT_ASSET)),
    "test domain": Case(("test", "domain", "--asset-name", DOMAIN_ASSET)),
    "providers": Case(("providers",)),
    "providers --json": Case(("providers", "--json")),
    "chain show": Case(("chain", "show")),
    "enable": Case(("enable",)),
    "disable": Case(("disable",)),
    "add --yes": Case(("{add}",)),
    "configure-thycotic -o status": Case(("configure-thycotic", "-o", "status")),
    "configure-thycotic -o test-thycotic-script": Case(
        ("configure-thycotic", "-o", "test-thycotic-script")
    ),
    "script check": Case(("script", "check", "--asset-name", SCRIPT_ASSET)),
    "cache clear": Case(("cache", "clear"), before="warm"),
    # the thycotic plugin's own commands (issue 14); secret ids follow the dataset's order
    "secret find (client grant)": Case(("secret", "find", "leak-")),
    "secret find --json --entry vault": Case(
        ("secret", "find", "leak-", "--json", "--entry", "vault")
    ),
    "secret get (masked)": Case(("secret", "get", "2")),
    "secret get --json (masked)": Case(("secret", "get", "2", "--json")),
    "secret get --field username": Case(
        ("secret", "get", "1", "--field", "username", "--entry", "vault")
    ),
    "access denied: secret get": Case(("secret", "get", "1", "--field", "password"), code=1),
    "login refused: secret get": Case(
        ("secret", "get", "1", "--entry", "vault"), code=1, home="wrong password"
    ),
    "login refused: token": Case(("token", "--entry", "vault"), code=1, home="wrong password"),
    # failures
    "login refused: resolve --json": resolve_json(VAULT_ASSET, code=5, home="wrong password"),
    "login refused: test": Case(("test",), code=1, home="wrong password"),
    "login refused: add --yes": Case(("{add-wrong}",), code=1),
    "revoked tokens": resolve_json(VAULT_ASSET, answers=(VAULT_ASSET,), before="revoke"),
    "a route that revokes every token": resolve_json(
        VAULT_ASSET, code=5, fault=f"revoke-tokens:{SEARCH}"
    ),
    "500 on the search": resolve_json(VAULT_ASSET, code=4, fault=f"500:{SEARCH}"),
    "HTML on the search": resolve_json(VAULT_ASSET, code=4, fault=f"html:{SEARCH}"),
    "truncated search": resolve_json(VAULT_ASSET, code=4, fault=f"truncated:{SEARCH}"),
    "truncated token grant": resolve_json(
        VAULT_ASSET, code=4, fault="truncated:POST oauth2/token", before="revoke"
    ),
    "truncated search: inventory": Case(
        ("resolve", "--inventory", "{inventory}"), code=8, fault=f"truncated:{SEARCH}"
    ),
    "script raises": resolve_json(SCRIPT_RAISES, code=5),
    "script answers no base64": resolve_json(SCRIPT_GARBAGE, code=5),
    "script answers no username": resolve_json(SCRIPT_NO_USERNAME, code=5),
    "script does not load": resolve_json(SCRIPT_ASSET, code=5, home="broken script"),
    "script check: does not load": Case(("script", "check", "--script", "{broken}"), code=1),
    "script check: raises": Case(("script", "check", "--asset-name", SCRIPT_RAISES), code=1),
    "script check: no base64": Case(("script", "check", "--asset-name", SCRIPT_GARBAGE), code=1),
    "test script: raises": Case(
        ("test", "script", "--asset-name", SCRIPT_RAISES),
        code=1,
        debug_shows=(PLANTED["script exception message"],),
    ),
    "script's environment": resolve_json(SCRIPT_ENV, code=3),
    "missing: resolve --json": resolve_json(MISSING, code=3),
    "missing: resolve": Case(("resolve", "--asset-name", MISSING), code=3),
    "missing: test": Case(("test", "--asset-name", MISSING), code=3),
}


def add_args(plant: Plant, password: str) -> list[str]:
    server = plant.server
    assert server.ca_cert is not None
    return [
        "add",
        "--yes",
        "--url",
        "https://127.0.0.1",
        "--port",
        str(server.port),
        "--username",
        "admin",
        "--password",
        password,
        "--verify-ssl",
        "--ca-bundle",
        server.ca_cert,
        "--privilege-password-field",
        "Privilege Password",
        "--test-value",
        VAULT_ASSET,
    ]


def command_line(case: Case, plant: Plant, tmp_path: Path) -> list[str]:
    inventory = tmp_path / "inventory.jsonl"
    inventory.write_text(inventory_lines(INVENTORY))
    fill = {
        "{inventory}": str(inventory),
        "{output}": str(tmp_path / "results.jsonl"),
        "{broken}": str(plant.scripts / "broken.py"),
    }
    args: list[str] = []
    for arg in case.args:
        if arg == "{add}":
            args += add_args(plant, PLANTED["admin password"])
        elif arg == "{add-wrong}":
            args += add_args(plant, PLANTED["wrong vault password"])
        else:
            args.append(fill.get(arg, arg))
    return args


def prepare(case: Case, plant: Plant, home: Path) -> None:
    if case.home == "wrong password":
        write_home(home, plant, vault_password=PLANTED["wrong vault password"])
    elif case.home == "broken script":
        write_home(home, plant, script="broken.py")
    else:
        write_home(home, plant)
    if case.before is not None:
        assert invoke(["resolve", "--json", "--asset-name", VAULT_ASSET]).code == 0
        if case.before == "revoke":
            plant.server.revoke_tokens()
    if case.fault is not None:
        plant.server.add_fault(case.fault)


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_no_canary_leaves_the_cli(
    case: Case,
    debug: bool,
    plant: Plant,
    home: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    prepare(case, plant, home)
    args = command_line(case, plant, tmp_path)
    caplog.clear()
    run = invoke(["--debug", *args] if debug else args, stdin=case.stdin)
    # --debug shows resolve's error as its traceback instead of the line, and so exits 1
    raised = debug and case.args[0] == "resolve" and case.code in (4, 5, 6, 7)
    assert run.code == (1 if raised else case.code), run.stderr
    answers = [value for asset in case.answers for value in credential_canaries(asset)]
    on_stdout = answers if "{output}" not in case.args else []
    for value in on_stdout:  # the answer is there: the scan would see a leak
        assert encode_base64(value) in run.stdout
    if case.args[:2] == ("resolve", "--json") and case.answers:
        assert run.stdout == json.dumps(safe_json(case.answers[0])) + "\n"
    scan(f"stdout of {run.label}", run.stdout, plant.planted(allowed=on_stdout))
    everything = plant.planted()
    shown = case.debug_shows if debug else ()
    for value in shown:
        assert value in run.stderr, "--debug shows what it was asked for"
    scan(f"stderr of {run.label}", run.stderr, plant.planted(allowed=shown))
    scan(f"trace of {run.label}", run.trace, everything)
    scan(f"log of {run.label}", caplog.text, everything)
    scan_files(home, plant)
    output = tmp_path / "results.jsonl"
    if output.exists():
        written = output.read_text()
        assert all(encode_base64(value) in written for value in answers)
        scan(f"file {output.name}", written, plant.planted(allowed=answers))
    if SCRIPT_ENV in args:
        assert "PATH" in json.loads(plant.env_dump.read_text())
    if plant.env_dump.exists():
        scan("environment of a script worker", plant.env_dump.read_text(), everything)


def test_the_scan_sees_a_canary_where_it_is(plant: Plant, leak_home: Path) -> None:
    run = invoke(["resolve", "--json", "--asset-name", VAULT_ASSET])
    with pytest.raises(AssertionError, match=f"the password of {VAULT_ASSET} leaked into stdout"):
        scan("stdout of the answer", run.stdout, plant.planted())


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_no_canary_leaves_the_demo(
    debug: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    started: list[tuple[DevServer, TokenLog]] = []

    class RecordingDevServer(DevServer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append((self, TokenLog(self)))

    monkeypatch.setattr("credchain.demo.DevServer", RecordingDevServer)
    caplog.clear()
    run = invoke(["--debug", "demo"] if debug else ["demo"])
    assert run.code == 0, run.stderr
    ((server, tokens),) = started
    planted = {**demo_canaries(), "demo admin password": server.admin_password}
    planted.update({f"demo token {i}": token for i, token in enumerate(tokens.values)})
    assert tokens.values
    for where, text in (("stdout", run.stdout), ("stderr", run.stderr), ("trace", run.trace)):
        scan(f"{where} of {run.label}", text, planted)
    scan(f"log of {run.label}", caplog.text, planted)
