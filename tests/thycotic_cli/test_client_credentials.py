"""The client-credentials grant (seed 004) end to end: set up by ``configure-thycotic``, used by
the provider and by every thycotic command, against the dev server's SDK client."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from thycotic_cli_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    Configure,
    client_settings,
    finish,
    run,
    spawn,
)

from credchain.devserver import DevServer, demo_password
from credchain.testing.secrets import assert_no_secrets

ASSET = "web-01.corp.example.com"
ASSET_PASSWORD = demo_password(ASSET)


def add_args(server: DevServer, *extra: str) -> list[str]:
    port = str(urlsplit(server.url).port)
    return [
        "configure-thycotic",
        "-o",
        "add",
        "--yes",
        "--url",
        "https://127.0.0.1",
        "--port",
        port,
        "--grant",
        "client_credentials",
        "--no-verify-ssl",
        "--fingerprint",
        server.fingerprint_sha256 or "",
        "--test-value",
        ASSET,
        *extra,
    ]


def test_configure_thycotic_sets_up_the_grant_with_the_secret_encrypted(
    secret_server: DevServer, home: Path
) -> None:
    result = run(
        *add_args(secret_server, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    )
    assert result.code == 0, result.err
    assert f"logged in as {CLIENT_ID!r}" in result.out and "Sanity test passed" in result.out
    text = (home / "credchain.toml").read_text()
    table = tomllib.loads(text)["providers"]["thycotic"]
    assert table["grant"] == "client_credentials" and table["client_id"] == CLIENT_ID
    assert table["client_secret"].startswith("enc:") and CLIENT_SECRET not in text
    assert "username" not in table and "password" not in table
    assert_no_secrets(result.everything, [CLIENT_SECRET, ASSET_PASSWORD])

    assert run("configure-thycotic", "-o", "test-thycotic-script").code == 0
    token = json.loads(run("token", "--json").out)
    assert token["grant"] == "client_credentials" and token["account"] == CLIENT_ID
    assert secret_server.get_stats()["grants"]["password"] == 0


def test_the_client_secret_may_come_from_the_environment(
    secret_server: DevServer, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDCHAIN_THYCOTIC_CLIENT_SECRET", CLIENT_SECRET)
    assert run(*add_args(secret_server, "--client-id", CLIENT_ID)).code == 0


def test_a_wrong_client_secret_saves_nothing(secret_server: DevServer, home: Path) -> None:
    result = run(*add_args(secret_server, "--client-id", CLIENT_ID, "--client-secret", "Bad-9x"))
    assert result.code == 1 and "refused the login" in result.err
    assert not (home / "credchain.toml").exists()
    assert_no_secrets(result.everything, ["Bad-9x"])


def test_username_with_the_client_grant_is_a_usage_error(
    secret_server: DevServer, home: Path
) -> None:
    result = run(*add_args(secret_server, "--username", "admin", "--client-id", CLIENT_ID))
    assert result.code == 2 and "--username is not used by the client_credentials grant" in (
        result.err
    )


def test_resolve_json_with_the_client_grant(secret_server: DevServer, configure: Configure) -> None:
    configure(**client_settings())
    result = run("resolve", "--json", "--asset-name", ASSET)
    assert result.code == 0, result.err
    assert json.loads(result.out)["username"] == "svc-scan"
    assert secret_server.get_stats()["grants"] == {
        "password": 0,
        "refresh_token": 0,
        "client_credentials": 1,
    }


def test_secret_get_and_find_with_the_client_grant(
    secret_server: DevServer, configure: Configure
) -> None:
    configure(**client_settings())
    found = json.loads(run("secret", "find", ASSET, "--json").out)
    assert [f["name"] for f in found] == [ASSET]  # what the client's user may see, only
    value = run("secret", "get", str(found[0]["id"]), "--field", "password")
    assert value.code == 0 and value.out == ASSET_PASSWORD + "\n"
    whole = run("secret", "get", str(found[0]["id"]))
    assert "svc-scan" in whole.out
    assert_no_secrets(whole.everything, [ASSET_PASSWORD, CLIENT_SECRET])
    assert secret_server.get_stats()["grants"]["client_credentials"] == 1  # cached between runs


def test_an_sdk_client_added_to_the_dev_server_logs_in_as_its_user(
    secret_server: DevServer, configure: Configure
) -> None:
    secret_server.add_user("ci-bot", "ci-bot-password", clients={"ci-client": "ci-client-secret"})
    configure(
        **{**client_settings(), "client_id": "ci-client", "client_secret": "ci-client-secret"}
    )
    token = json.loads(run("token", "--json").out)
    assert token["account"] == "ci-client"
    assert run("secret", "find", ASSET).code == 3  # ci-bot has nothing shared with it


@pytest.mark.timeout(60)
def test_interactive_add_asks_for_the_client_id_and_a_hidden_secret(
    secret_server: DevServer, home: Path
) -> None:
    child = spawn(["configure-thycotic", "-o", "add", "--grant", "client_credentials"], home)
    child.expect_exact("Thycotic URL: ")
    child.sendline("https://127.0.0.1")
    for prompt in (
        "Thycotic authorization URL path [SecretServer/oauth2/token]: ",
        "Thycotic secrets URL path [SecretServer/api/v1/secrets]: ",
    ):
        child.expect_exact(prompt)
        child.sendline("")
    child.expect_exact("Thycotic port [443]: ")
    child.sendline(str(urlsplit(secret_server.url).port))
    child.expect_exact("Thycotic client id: ")
    child.sendline(CLIENT_ID)
    child.expect_exact("Thycotic client secret: ")
    child.sendline(CLIENT_SECRET)
    child.expect_exact("Verify SSL [Y/n]: ")
    child.sendline("n")
    child.expect_exact("Certificate signature (SHA256 fingerprint)")
    child.sendline("")
    child.expect_exact(f"logged in as {CLIENT_ID!r}")
    for prompt in (
        "Select the SAFE field name for asset identification (1: Asset Name, 2: IP Address or "
        "Hostname, 3: CMDB ID) [1]: ",
        "Select the Thycotic field name for asset identification (name or slug, any case) "
        "[Secret Name]: ",
        "Enter Thycotic field name for username (name or slug, any case) [username]: ",
        "Enter the Thycotic field name for the password (name or slug, any case) [password]: ",
        "Enter the Thycotic field name for the privilege password (optional; - for none)",
    ):
        child.expect_exact(prompt)
        child.sendline("")
    child.expect_exact("Enter a valid Thycotic Field value to test script sanity: ")
    child.sendline(ASSET)
    code, output = finish(child)
    assert code == 0, output
    assert "Sanity test passed" in output and "Status: Enabled" in output
    assert_no_secrets(output, [CLIENT_SECRET, ASSET_PASSWORD])
    table = tomllib.loads((home / "credchain.toml").read_text())["providers"]["thycotic"]
    assert table["client_secret"].startswith("enc:")
