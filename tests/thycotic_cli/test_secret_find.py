"""``credchain secret find``: id, name, folder and template of each match; never a value."""

from __future__ import annotations

import json

import pytest
from thycotic_cli_helpers import Configure, run

from credchain.devserver import DevServer, demo_password
from credchain.testing.secrets import assert_no_secrets

WEB01 = "web-01.corp.example.com"
WEB_SECRETS = [
    demo_password(f"web-0{i}.corp.example.com{s}") for i in (1, 2) for s in ("", " root")
]


@pytest.fixture
def admin(configure: Configure) -> None:
    configure()


def rows(out: str) -> list[list[str]]:
    """The tab-separated table below its header."""
    return [line.split("\t") for line in out.splitlines()[1:]]


@pytest.mark.usefixtures("admin")
def test_lists_id_name_folder_template_and_no_value(secret_server: DevServer) -> None:
    result = run("secret", "find", "web-01")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "id\tname\tfolder\ttemplate"
    found = {row[1]: row for row in rows(result.out)}
    assert found[WEB01][2:] == ["\\Scan Accounts", "Scan Account"]
    assert found[f"{WEB01} root"][2:] == ["\\Infrastructure\\Unix", "Unix Account (SSH)"]
    assert_no_secrets(result.everything, WEB_SECRETS)


@pytest.mark.usefixtures("admin")
def test_folder_by_path_takes_its_subfolders() -> None:
    under = {
        row[1] for row in rows(run("secret", "find", "web-0", "--folder", "\\Infrastructure").out)
    }
    assert f"{WEB01} root" in under and WEB01 not in under
    by_slashes = run("secret", "find", "web-0", "--folder", "/Infrastructure/Unix")
    assert {row[1] for row in rows(by_slashes.out)} == under


@pytest.mark.usefixtures("admin")
def test_folder_by_id() -> None:
    found = {row[1] for row in rows(run("secret", "find", "web-01", "--folder", "5").out)}
    assert found == {WEB01}


@pytest.mark.usefixtures("admin")
def test_a_folder_path_that_does_not_exist_is_one_line() -> None:
    result = run("secret", "find", "x", "--folder", "\\No\\Such")
    assert result.code == 1
    assert result.err == (
        "credchain: error: folder '\\No\\Such': not found, or not visible to this account\n"
    )


@pytest.mark.usefixtures("admin")
def test_field_searches_that_field() -> None:
    result = run("secret", "find", "break-glass", "--field", "username", "--json")
    assert result.code == 0, result.err
    assert [r["name"] for r in json.loads(result.out)] == ["LAB\\break-glass"]


@pytest.mark.usefixtures("admin")
def test_json_records() -> None:
    records = json.loads(run("secret", "find", "sw-01", "--json").out)
    assert records == [
        {
            "id": records[0]["id"],
            "name": "sw-01.corp.example.com",
            "folder": "\\Infrastructure\\Network",
            "template": "Password",
        }
    ]


@pytest.mark.usefixtures("admin")
def test_no_match_exits_3() -> None:
    result = run("secret", "find", "no-such-secret-anywhere")
    assert result.code == 3 and "No secret matches" in result.err and result.out == ""


@pytest.mark.usefixtures("admin")
def test_many_matches_are_read_page_by_page(secret_server: DevServer) -> None:
    for n in range(130):
        secret_server.add_secret(f"bulk-{n:03d}", {"username": "u", "password": "p"})
    found = rows(run("secret", "find", "bulk-").out)
    assert len(found) == 130 and len({row[0] for row in found}) == 130
    assert len(rows(run("secret", "find", "bulk-", "--limit", "7").out)) == 7


def test_another_user_sees_only_what_is_shared(configure: Configure) -> None:
    configure(username="scanner", password="scanner-dev-password")
    names = {row[1] for row in rows(run("secret", "find", "web-01").out)}
    assert names == {WEB01}
