"""``credchain resolve``: the machine contract (--json, exit codes, stdin) and the people view."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from credchain.cli import main
from credchain.testing.distributions import write_distribution
from credchain.testing.secrets import assert_no_secrets

PLANTED = "planted-Cli-5e1a"
WriteConfig = Callable[[dict[str, object]], Path]


@pytest.fixture
def config(site: Path, write_config: WriteConfig) -> Path:
    write_distribution(
        site,
        "credchain-test-providers",
        "1.0",
        {
            "nothere": "credchain.testing.providers:NotHereProvider",
            "static": "credchain.testing.providers:StaticProvider",
        },
    )
    return write_config(
        {
            "chain": ["empty", "lab"],
            "providers": {
                "empty": {"type": "nothere"},
                "lab": {
                    "type": "static",
                    "credentials": {
                        "web-01": {
                            "username": "svc",
                            "password": PLANTED,
                            "privilege_password": "en",
                        }
                    },
                },
            },
        }
    )


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_json_prints_the_safe_dict_alone(config: Path) -> None:
    code, out, err = run("resolve", "--config", str(config), "--asset-name", "web-01", "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "username": "svc",
        "password": base64.b64encode(PLANTED.encode()).decode(),
        "privilegePassword": base64.b64encode(b"en").decode(),
    }
    assert out.count("\n") == 1 and err == ""


def test_json_query_from_stdin(config: Path) -> None:
    query = json.dumps({"asset_name": "web-01", "ip_address": None, "cmdb_id": None})
    code, out, _ = run("resolve", "--json", stdin=query)
    assert code == 0
    assert json.loads(out)["username"] == "svc"


def test_not_found_exits_3_with_one_line(config: Path) -> None:
    code, out, err = run("resolve", "--asset-name", "db-09", "--json")
    assert (code, out) == (3, "")
    assert err.startswith("credchain: not found:") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--json",), "not json", "not JSON"),
        (("--json",), '{"hostname": "x"}', "unknown query key 'hostname'"),
        (
            ("--json", "--config", "/nonexistent/credchain.toml", "--asset-name", "x"),
            None,
            "no configuration",
        ),
    ],
)
def test_other_errors_exit_1_with_one_line(
    config: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    code, out, err = run("resolve", *args, stdin=stdin)
    assert (code, out) == (1, "")
    assert err.startswith("credchain: error:") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unknown_provider_in_chain_exits_1_naming_it(
    config: Path, write_config: WriteConfig
) -> None:
    write_config({"chain": ["vaultx"]})
    code, _, err = run("resolve", "--asset-name", "web-01", "--json")
    assert code == 1
    assert "'vaultx'" in err and "static" in err


def test_people_view_masks_passwords(config: Path) -> None:
    code, out, err = run("resolve", "--asset-name", "web-01")
    assert code == 0
    assert "svc" in out and "********" in out and "lab" in out
    assert_no_secrets(out + err, [PLANTED, "en\t"])
