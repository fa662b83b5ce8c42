"""``resolve --inventory --concurrency auto|N``: the width and the vault's 429s in the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner, Result

from credchain.cli import main
from credchain.devserver import DEMO_ASSETS, DevServer

SEARCH = "GET api/v1/secrets"


@pytest.fixture
def config(secret_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CREDCHAIN_TEST_VAULT_PW", secret_server.admin.password)
    table = {
        "type": "thycotic",
        **secret_server.thycotic_table(
            password=None, password_env="CREDCHAIN_TEST_VAULT_PW", multiple_matches="first"
        ),
    }
    path = tmp_path / "credchain.toml"
    path.write_text(tomli_w.dumps({"chain": ["vault"], "providers": {"vault": table}}))
    path.chmod(0o600)
    return path


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "inv.jsonl"
    path.write_text("".join(json.dumps({"asset_name": a.fqdn}) + "\n" for a in DEMO_ASSETS))
    return path


def scan(config: Path, inventory: Path, *flags: str) -> Result:
    args = ["resolve", "--config", str(config), "--inventory", str(inventory), *flags]
    return CliRunner().invoke(main, args)


def test_the_default_width_is_adaptive_and_in_the_summary(config: Path, inventory: Path) -> None:
    result = scan(config, inventory)
    assert result.exit_code == 0, result.stderr
    assert "width: adaptive, 1 to 16: mean " in result.stderr


def test_max_concurrency_is_the_adaptive_cap(config: Path, inventory: Path) -> None:
    result = scan(config, inventory, "--max-concurrency", "3")
    assert result.exit_code == 0, result.stderr
    assert "width: adaptive, 1 to 3: " in result.stderr


def test_a_number_is_a_fixed_width(config: Path, inventory: Path) -> None:
    result = scan(config, inventory, "--concurrency", "4")
    assert result.exit_code == 0, result.stderr
    assert "width: fixed at 4" in result.stderr


def test_the_429s_of_each_entry_are_in_the_summary(
    config: Path, inventory: Path, secret_server: DevServer
) -> None:
    secret_server.add_fault(f"429:{SEARCH}:count=2,retry_after=0")
    result = scan(config, inventory)
    assert result.exit_code == 0, result.stderr
    assert "2 answered 429 (too many requests)" in result.stderr


@pytest.mark.parametrize("width", ["0", "257", "fast", "-1"])
def test_a_width_that_is_not_auto_nor_1_to_256_is_refused(
    config: Path, inventory: Path, width: str
) -> None:
    result = scan(config, inventory, "--concurrency", width)
    assert result.exit_code == 2
    assert "is not 'auto' nor a number from 1 to 256" in result.stderr
