"""``credchain resolve --inventory``: a whole scan against the dev server, as JSON lines; its
width (``--concurrency auto|N``) and the vault's 429s in the summary."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner, Result

from credchain.cli import main
from credchain.devserver import DEMO_ASSETS, DevServer
from credchain.testing.secrets import assert_no_secrets


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


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["asset_name", "ip_address", "cmdb_id", "owner"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def demo_rows() -> list[dict[str, str]]:
    return [
        {"asset_name": a.fqdn, "ip_address": a.ip, "cmdb_id": a.cmdb_id, "owner": "ops"}
        for a in DEMO_ASSETS
    ]


def test_csv_inventory_resolves_and_summarises(config: Path, tmp_path: Path) -> None:
    inventory = write_csv(tmp_path / "inv.csv", demo_rows())
    result = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(inventory)]
    )
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(DEMO_ASSETS)
    assert sorted(r["line"] for r in records) == list(range(2, len(DEMO_ASSETS) + 2))
    found = [r for r in records if r["outcome"] == "found"]
    assert {r["source"] for r in found} == {"vault"}
    assert all("credential" not in r for r in records)
    web = next(r for r in records if r["query"]["asset_name"] == "web-01.corp.example.com")
    assert web["username"] == "svc-scan"
    assert f"{len(DEMO_ASSETS)} assets in" in result.stderr
    assert "vault (thycotic)" in result.stderr


def test_show_secrets_adds_the_safe_dicts(
    config: Path, tmp_path: Path, secret_server: DevServer
) -> None:
    secret_server.add_secret("inv-host", {"username": "u", "password": "Inv-Planted-3"})
    inventory = tmp_path / "inv.jsonl"
    inventory.write_text(json.dumps({"asset_name": "inv-host"}) + "\n")
    plain = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(inventory)]
    )
    assert_no_secrets(plain.output, ["Inv-Planted-3"])
    shown = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(inventory), "--show-secrets"]
    )
    record = json.loads(shown.stdout)
    assert record["credential"] == {"username": "u", "password": "SW52LVBsYW50ZWQtMw=="}


def test_bad_lines_are_reported_and_the_scan_goes_on(config: Path, tmp_path: Path) -> None:
    inventory = tmp_path / "inv.jsonl"
    inventory.write_text(
        '{"asset_name": "web-01.corp.example.com"}\n\nnot json\n{"hostname": "x"}\n[1]\n'
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        main,
        ["resolve", "--config", str(config), "--inventory", str(inventory), "--output", str(out)],
    )
    assert result.exit_code == 8, result.stderr  # lines failed
    records = {r["line"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert records[1]["outcome"] == "found"
    assert "inv.jsonl:3: not JSON" in records[3]["error"]
    assert "a query needs at least one of" in records[4]["error"]  # 'hostname' is ignored
    assert "not a JSON object" in records[5]["error"]
    assert "3 failed" in result.stderr


def test_csv_without_query_columns_is_refused(config: Path, tmp_path: Path) -> None:
    inventory = tmp_path / "inv.csv"
    inventory.write_text("host,owner\nweb,ops\n")
    result = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(inventory)]
    )
    assert result.exit_code == 1
    assert "inv.csv:1: the CSV header needs one of asset_name" in result.stderr


def test_one_search_per_asset_and_one_grant(
    config: Path, tmp_path: Path, secret_server: DevServer
) -> None:
    rows = [
        {"asset_name": f"bulk-{i:03d}", "ip_address": "", "cmdb_id": "", "owner": ""}
        for i in range(150)
    ]
    for row in rows:
        secret_server.add_secret(row["asset_name"], {"username": "u", "password": "p"})
    inventory = write_csv(tmp_path / "bulk.csv", rows + rows[:50])
    result = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(inventory)]
    )
    assert result.exit_code == 0
    stats = secret_server.get_stats()
    assert stats["grants"]["password"] == 1
    assert stats["requests"]["GET api/v1/secrets"] == 150  # repeats answered from the run's cache


def web_01() -> list[dict[str, str]]:
    return [row for row in demo_rows() if row["asset_name"] == "web-01.corp.example.com"]


def scan(config: Path, inventory: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(inventory), *extra]
    )


def test_an_undecodable_line_is_its_own_record_and_the_scan_ends_with_its_summary(
    config: Path, tmp_path: Path
) -> None:
    inventory = tmp_path / "inv.csv"
    inventory.write_bytes(
        b"asset_name,ip_address\n"
        b"web-01.corp.example.com,\n" + "caf\xe9-01,10.0.0.9\n".encode("latin-1") + b"\xff\xfe,\n"
        b"db-01.corp.example.com,\n"
    )
    result = scan(config, inventory)
    assert result.exit_code == 8, result.stderr
    records = {r["line"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert records[2]["outcome"] == records[5]["outcome"] == "found"
    assert records[3]["error"] == f"{inventory}:3: not UTF-8 text (byte 0xe9 at column 4)"
    assert records[4]["error"].startswith(f"{inventory}:4: not UTF-8 text")
    assert "4 assets in" in result.stderr
    assert "2 failed" in result.stderr


def test_an_oversized_field_is_its_own_record_and_the_scan_goes_on(
    config: Path, tmp_path: Path
) -> None:
    inventory = tmp_path / "inv.csv"
    inventory.write_bytes(
        b"asset_name,ip_address\n" + b"x" * (200 * 1024) + b",\nweb-01.corp.example.com,\n"
    )
    result = scan(config, inventory)
    assert result.exit_code == 8, result.stderr
    records = {r["line"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert records[2]["error"] == f"{inventory}:2: a field is over 128 KiB"
    assert records[3]["outcome"] == "found"
    assert "2 assets in" in result.stderr


def test_a_csv_saved_with_a_bom_is_looked_up_by_every_column(config: Path, tmp_path: Path) -> None:
    inventory = tmp_path / "inv.csv"
    with inventory.open("w", encoding="utf-8-sig", newline="") as handle:  # Excel's "CSV UTF-8"
        handle.write("asset_name,ip_address\r\nweb-01.corp.example.com,192.0.2.1\r\n")
    result = scan(config, inventory)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["query"]["asset_name"] == "web-01.corp.example.com"
    assert record["outcome"] == "found"


def test_output_is_private_whatever_the_umask(config: Path, tmp_path: Path) -> None:
    inventory = write_csv(tmp_path / "inv.csv", web_01())
    out = tmp_path / "out.jsonl"
    previous = os.umask(0o022)
    try:
        result = scan(config, inventory, "--output", str(out), "--show-secrets")
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "credential" in json.loads(out.read_text())


def test_an_existing_output_is_replaced_private(config: Path, tmp_path: Path) -> None:
    inventory = write_csv(tmp_path / "inv.csv", web_01())
    out = tmp_path / "out.jsonl"
    out.write_text("old results\n")
    out.chmod(0o644)
    result = scan(config, inventory, "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["line"] == 2


def test_an_unusable_header_leaves_an_existing_output_untouched(
    config: Path, tmp_path: Path
) -> None:
    inventory = tmp_path / "inv.csv"
    inventory.write_text("host,owner\nweb,ops\n")
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"line": 2, "outcome": "found"}\n')
    out.chmod(0o640)
    result = scan(config, inventory, "--output", str(out))
    assert result.exit_code == 1
    assert out.read_bytes() == b'{"line": 2, "outcome": "found"}\n'
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credchain.toml", "inv.csv", "out.jsonl"]


# --- the width (--concurrency auto|N) and the vault's 429s in the summary ---


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "inv.jsonl"
    path.write_text("".join(json.dumps({"asset_name": a.fqdn}) + "\n" for a in DEMO_ASSETS))
    return path


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
    secret_server.add_fault("429:GET api/v1/secrets:count=2,retry_after=0")
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
