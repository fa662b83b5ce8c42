"""``credchain resolve``: the machine contract (--json, exit codes, stdin) and the people view."""

from __future__ import annotations

import base64
import json
import logging
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from credchain.cli import main
from credchain.devserver import DevServer, demo_password
from credchain.models import encode_base64
from credchain.testing.distributions import write_distribution
from credchain.testing.process import run_credchain
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
    ("args", "stdin", "message", "exit_code"),
    [
        (("--json",), "not json", "not JSON", 1),
        (("--json",), '{"hostname": "x"}', "unknown query key 'hostname'", 1),
        (
            ("--json", "--config", "/nonexistent/credchain.toml", "--asset-name", "x"),
            None,
            "no configuration",
            5,  # misconfigured
        ),
    ],
)
def test_other_errors_exit_with_one_line(
    config: Path, args: tuple[str, ...], stdin: str | None, message: str, exit_code: int
) -> None:
    code, out, err = run("resolve", *args, stdin=stdin)
    assert (code, out) == (exit_code, "")
    assert err.startswith("credchain: error:") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_error_naming_a_line_break_stays_one_line(config: Path, tmp_path: Path) -> None:
    where = tmp_path / "odd\nname.toml"
    code, out, err = run("resolve", "--json", "--config", str(where), "--asset-name", "web-01")
    assert (code, out) == (5, "")
    assert err.count("\n") == 1 and "odd\\nname.toml" in err


def test_unknown_provider_in_chain_exits_5_naming_it(
    config: Path, write_config: WriteConfig
) -> None:
    write_config({"chain": ["vaultx"]})
    code, _, err = run("resolve", "--asset-name", "web-01", "--json")
    assert code == 5  # misconfigured
    assert "'vaultx'" in err and "static" in err


def test_people_view_masks_passwords(config: Path) -> None:
    code, out, err = run("resolve", "--asset-name", "web-01")
    assert code == 0
    assert "svc" in out and "********" in out and "lab" in out
    assert_no_secrets(out + err, [PLANTED, "en\t"])


# -- the real process's stderr: one line on failure, nothing on exit 0 (issue 12) ---------------

ASSET = "web-01.corp.example.com"


def run_process(
    home: Path, *args: str, site: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m credchain ARGS`` in a child process with ``home``: its real stderr."""
    return run_credchain(home, *args, pythonpath=site)


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def vault_config(write_config: WriteConfig, table: dict[str, object]) -> Path:
    return write_config({"chain": ["vault"], "providers": {"vault": {"type": "thycotic", **table}}})


def test_json_on_an_unreachable_vault_prints_one_error_line(
    home: Path, write_config: WriteConfig
) -> None:
    table = {"url": "https://127.0.0.1", "port": closed_port(), "username": "svc", "retries": 1}
    vault_config(write_config, {**table, "password": PLANTED, "connect_timeout": 2.0})
    done = run_process(home, "resolve", "--json", "--asset-name", ASSET)
    assert (done.returncode, done.stdout) == (4, "")  # try later
    assert done.stderr.startswith("credchain: error:") and done.stderr.count("\n") == 1
    assert "cannot reach" in done.stderr and "Retrying" not in done.stderr


def test_json_with_a_broken_provider_in_the_chain_prints_one_error_line(
    home: Path, site: Path, write_config: WriteConfig
) -> None:
    write_distribution(site, "credchain-broken", "1.0", {"broken": "no_such_module_zz:Provider"})
    write_config({"chain": ["broken"]})
    done = run_process(home, "resolve", "--json", "--asset-name", ASSET, site=site)
    assert (done.returncode, done.stdout) == (5, "")  # misconfigured
    assert done.stderr.startswith("credchain: error:") and done.stderr.count("\n") == 1
    assert "'broken'" in done.stderr and "ModuleNotFoundError" in done.stderr


def test_json_found_after_a_retry_prints_the_safe_dict_alone(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    vault_config(write_config, secret_server.thycotic_table(retries=2))
    secret_server.add_fault("reset:GET api/v1/secrets:count=1")  # urllib3 retries, and logs it
    done = run_process(home, "resolve", "--json", "--asset-name", ASSET)
    assert (done.returncode, done.stderr) == (0, "")
    safe = {"username": "svc-scan", "password": encode_base64(demo_password(ASSET))}
    assert done.stdout == json.dumps(safe) + "\n"
    assert secret_server.faults.armed() == []  # the reset did happen


def test_debug_shows_library_messages_without_their_query_strings(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    vault_config(write_config, secret_server.thycotic_table(retries=2))
    secret_server.add_fault("reset:GET api/v1/secrets:count=1")
    done = run_process(home, "--debug", "resolve", "--json", "--asset-name", ASSET)
    assert done.returncode == 0, done.stderr
    assert "urllib3.connectionpool: Retrying" in done.stderr
    assert "stevedore" in done.stderr
    assert "/SecretServer/api/v1/secrets?<query>" in done.stderr
    assert ASSET not in done.stderr and "filter." not in done.stderr
    assert_no_secrets(done.stderr, [secret_server.admin.password, demo_password(ASSET)])


def test_credchains_own_warnings_stay_off_stderr_with_json_only(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    vault_config(write_config, secret_server.thycotic_table()).chmod(0o644)  # plain, and shared
    machine = run_process(home, "resolve", "--json", "--asset-name", ASSET)
    assert (machine.returncode, machine.stderr) == (0, "")
    people = run_process(home, "resolve", "--asset-name", ASSET)
    assert people.returncode == 0
    assert people.stderr.count("\n") == 1 and "stored in plain text" in people.stderr


def test_status_reports_a_missing_provider_once_in_credchains_words(
    home: Path, write_config: WriteConfig
) -> None:
    write_config({"chain": ["x"], "providers": {"x": {"type": "nonesuch"}}})
    done = run_process(home, "status")
    assert done.returncode == 0
    assert done.stderr.count("\n") == 1 and "stevedore" not in done.stderr
    assert "skipping provider: no provider named 'nonesuch'" in done.stderr


def test_a_provider_type_installed_twice_is_warned_about_in_credchains_words(
    home: Path, site: Path, write_config: WriteConfig, caplog: pytest.LogCaptureFixture
) -> None:
    info = write_distribution(site, "credchain-twice", "1.0", {})
    target = "credchain.testing.providers:NotHereProvider"
    (info / "entry_points.txt").write_text(
        f"[credchain.providers]\ntwice = {target}\ntwice = {target.replace(':', ': ')}\n"
    )
    write_config({"chain": ["twice"]})
    with caplog.at_level(logging.WARNING):
        code, _, err = run("resolve", "--asset-name", "web-01", "--json")
    assert code == 3, err
    assert [r.name for r in caplog.records] == ["credchain.plugins"]
    assert "provider 'twice' is installed 2 times" in caplog.records[0].getMessage()


def test_a_query_on_stdin_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from credchain.cli import main

    result = CliRunner().invoke(
        main, ["resolve", "--config", str(tmp_path / "none.toml"), "--json"], input=b"\xff{}"
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "credchain: error: the query on stdin is not UTF-8 text"
