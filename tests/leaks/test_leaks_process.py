"""A few commands in a real child process: its stderr carries the log handler's output.

In-process runs leave logging to pytest; here ``--debug`` prints every record, urllib3's and
stevedore's included, on the child's stderr, and tracebacks reach it as a person would see them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from leak_helpers import (
    ENV_VAR,
    MISSING,
    PLANTED,
    SCRIPT_ENV,
    VAULT_ASSET,
    Plant,
    credential_canaries,
    inventory_lines,
    safe_json,
    scan,
    scan_files,
    write_home,
)

from credchain.testing.process import run_credchain

RUNS = {
    "--debug resolve --json": (("--debug", "resolve", "--json", "--asset-name", VAULT_ASSET), 0),
    "--debug resolve --json (script's environment)": (
        ("--debug", "resolve", "--json", "--asset-name", SCRIPT_ENV),
        3,
    ),
    "--debug test": (("--debug", "test", "--asset-name", VAULT_ASSET), 0),
    "--debug resolve --json (login refused)": (
        ("--debug", "resolve", "--json", "--asset-name", VAULT_ASSET),
        1,
    ),
    "--debug resolve --inventory (truncated search)": (
        ("--debug", "resolve", "--inventory", "{inventory}"),
        0,
    ),
    "resolve --json (missing)": (("resolve", "--json", "--asset-name", MISSING), 3),
}


def credchain(home: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return run_credchain(home, *args, extra={ENV_VAR: PLANTED["environment vault password"]})


@pytest.mark.parametrize(("args", "code"), RUNS.values(), ids=RUNS.keys())
def test_no_canary_reaches_a_real_stderr(
    args: tuple[str, ...], code: int, plant: Plant, home: Path, tmp_path: Path
) -> None:
    refused = args[-1] == VAULT_ASSET and code == 1
    write_home(home, plant, vault_password=PLANTED["wrong vault password"] if refused else None)
    inventory = tmp_path / "inventory.jsonl"
    inventory.write_text(inventory_lines([VAULT_ASSET, MISSING]))
    if "{inventory}" in args:
        plant.server.add_fault("truncated:GET api/v1/secrets")
    line = [str(inventory) if arg == "{inventory}" else arg for arg in args]
    done = credchain(home, line)
    assert done.returncode == code, done.stderr
    answer = credential_canaries(VAULT_ASSET) if code == 0 and "--json" in args else ()
    if answer:
        assert done.stdout == json.dumps(safe_json(VAULT_ASSET)) + "\n"
    if "--debug" in args:
        assert "urllib3" in done.stderr  # the libraries' records are there to be scanned
    else:
        assert done.stderr.startswith("credchain: not found:") and done.stderr.count("\n") == 1
    label = "credchain " + " ".join(line)
    scan(f"stdout of {label}", done.stdout, plant.planted(allowed=answer))
    scan(f"stderr of {label}", done.stderr, plant.planted())
    scan_files(home, plant)
    if SCRIPT_ENV in args:
        environ = json.loads(plant.env_dump.read_text())
        assert "PATH" in environ and ENV_VAR not in environ
        scan("environment of a script worker", plant.env_dump.read_text(), plant.planted())
