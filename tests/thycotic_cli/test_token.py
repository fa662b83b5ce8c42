"""``credchain token``: a bearer token for other tools, from the entry's grant and token cache."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from thycotic_cli_helpers import Configure, run

from credchain.devserver import DevServer
from credchain.testing.secrets import assert_no_secrets


def api_get(server: DevServer, token: str, path: str) -> requests.Response:
    return requests.get(
        f"{server.url}/{path}",
        headers={"Authorization": f"Bearer {token}"},
        verify=server.ca_cert,
        timeout=10,
    )


def test_prints_a_token_other_tools_can_use(secret_server: DevServer, configure: Configure) -> None:
    configure()
    result = run("token")
    assert result.code == 0, result.err
    token = result.out.strip()
    assert result.out == token + "\n" and result.err == ""
    assert api_get(secret_server, token, "api/v1/secrets/1").json()["id"] == 1


def test_a_fresh_cached_token_is_reused_across_runs(
    secret_server: DevServer, configure: Configure
) -> None:
    configure()
    first, second = run("token").out, run("token").out
    assert first == second
    assert secret_server.get_stats()["grants"]["password"] == 1


def test_renew_logs_in_afresh(secret_server: DevServer, configure: Configure) -> None:
    configure()
    first = run("token").out
    renewed = run("token", "--renew").out
    assert renewed != first and secret_server.get_stats()["grants"]["password"] == 2


def test_no_token_cache_means_a_grant_per_run(
    secret_server: DevServer, configure: Configure
) -> None:
    configure(token_cache=False)
    run("token")
    run("token")
    assert secret_server.get_stats()["grants"]["password"] == 2


def test_json_adds_the_expiry(secret_server: DevServer, configure: Configure) -> None:
    configure()
    before = time.time()
    answer = json.loads(run("token", "--json").out)
    assert set(answer) == {
        "access_token",
        "token_type",
        "expires_at",
        "expires_in",
        "entry",
        "grant",
        "account",
    }
    assert answer["token_type"] == "bearer" and answer["grant"] == "password"
    assert answer["entry"] == "thycotic" and answer["account"] == "admin"
    assert 1190 <= answer["expires_in"] <= 1200  # the dev server's 20-minute default
    assert answer["expires_at"].endswith("Z")
    assert time.strftime("%Y-%m-%dT", time.gmtime(before + 1200)) in answer["expires_at"]


@pytest.mark.parametrize("grant", ["password", "client_credentials"])
def test_a_refused_login_is_one_line_without_the_secret(
    secret_server: DevServer, configure: Configure, grant: str
) -> None:
    if grant == "password":
        configure(password="Wrong-Planted-7")
    else:
        configure(
            grant="client_credentials",
            username=None,
            password=None,
            client_id="scanner-client",
            client_secret="Wrong-Planted-7",
        )
    result = run("token")
    assert result.code == 1 and len(result.err.splitlines()) == 1
    assert "refused the login" in result.err and result.out == ""
    assert_no_secrets(result.everything, ["Wrong-Planted-7"])


def test_no_thycotic_entry_is_one_line(write_config: Callable[[dict[str, object]], Path]) -> None:
    write_config({"chain": ["script"], "providers": {"script": {"type": "custom-script"}}})
    result = run("token")
    assert result.code == 1 and "no thycotic entry" in result.err
