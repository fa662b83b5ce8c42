"""``credchain secret get``: one field raw (text, file bytes, ``--out``), or the secret masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from thycotic_cli_helpers import Configure, run

from credchain.devserver import DevServer, FileValue
from credchain.testing.secrets import assert_no_secrets

PASSWORD = "Planted-Get-Pw-41x"
KEY = "-----BEGIN KEY-----\nplanted-ключ-bytes\n-----END KEY-----"  # no final newline
PASSPHRASE = "Planted-Passphrase-9q"


@pytest.fixture
def secret_id(secret_server: DevServer, configure: Configure) -> int:
    configure()
    return secret_server.add_secret(
        "get-me.corp.example.com root",
        {
            "machine": "get-me.corp.example.com",
            "username": "root",
            "password": PASSWORD,
            "private-key": FileValue(filename="id_get_me", content=KEY),
            "private-key-passphrase": PASSPHRASE,
        },
        template_id=6007,
        folder_id=3,
    )


def test_a_field_is_printed_raw_as_tss_does(secret_id: int) -> None:
    result = run("secret", "get", str(secret_id), "--field", "password")
    assert result.code == 0, result.err
    assert result.out == PASSWORD + "\n"


def test_a_file_field_is_its_exact_bytes(secret_id: int) -> None:
    result = run("secret", "get", str(secret_id), "--field", "private-key")
    assert result.code == 0, result.err
    assert result.out_bytes == KEY.encode()


def test_out_writes_the_field_with_mode_0600_and_prints_no_value(
    secret_id: int, tmp_path: Path
) -> None:
    target = tmp_path / "key.pem"
    target.write_text("old")
    target.chmod(0o644)
    result = run("secret", "get", str(secret_id), "--field", "private-key", "--out", str(target))
    assert result.code == 0, result.err
    assert target.read_bytes() == KEY.encode()
    assert target.stat().st_mode & 0o777 == 0o600
    assert result.out == "" and str(target) in result.err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".key.pem")]  # no temp left


def test_out_into_a_missing_directory_is_one_usage_line(secret_id: int, tmp_path: Path) -> None:
    result = run(
        "secret", "get", str(secret_id), "--field", "password", "--out", str(tmp_path / "x/y")
    )
    assert result.code == 2 and "no directory" in result.err


def test_out_needs_a_field(secret_id: int, tmp_path: Path) -> None:
    result = run("secret", "get", str(secret_id), "--out", str(tmp_path / "f"))
    assert result.code == 2 and "--field" in result.err


def test_the_whole_secret_masks_password_fields(secret_id: int) -> None:
    result = run("secret", "get", str(secret_id))
    assert result.code == 0, result.err
    assert "root" in result.out and "********" in result.out
    assert "(file id_get_me)" in result.out and "\\Infrastructure\\Unix" in result.out
    assert_no_secrets(result.everything, [PASSWORD, PASSPHRASE, KEY])


def test_show_secrets_shows_them(secret_id: int) -> None:
    result = run("secret", "get", str(secret_id), "--show-secrets")
    assert result.code == 0 and PASSWORD in result.out and PASSPHRASE in result.out


def test_json_masks_unless_show_secrets(secret_id: int) -> None:
    masked = json.loads(run("secret", "get", str(secret_id), "--json").out)
    items = {item["slug"]: item for item in masked["items"]}
    assert items["password"] == {
        "field": "Password",
        "slug": "password",
        "value": None,
        "isPassword": True,
        "isFile": False,
        "masked": True,
    }
    assert items["username"]["value"] == "root" and items["private-key"]["filename"] == "id_get_me"
    assert masked["folder"] == "\\Infrastructure\\Unix"
    assert_no_secrets(json.dumps(masked), [PASSWORD, PASSPHRASE, KEY])
    shown = json.loads(run("secret", "get", str(secret_id), "--json", "--show-secrets").out)
    assert {i["slug"]: i["value"] for i in shown["items"]}["password"] == PASSWORD


def test_field_json(secret_id: int) -> None:
    text = json.loads(run("secret", "get", str(secret_id), "--field", "username", "--json").out)
    assert text == {"id": secret_id, "slug": "username", "isFile": False, "value": "root"}


def test_a_field_the_secret_lacks_is_one_line(secret_id: int) -> None:
    result = run("secret", "get", str(secret_id), "--field", "no-such-field")
    assert result.code == 1
    assert result.err == f"credchain: error: secret {secret_id} has no field 'no-such-field'\n"


def test_a_secret_the_account_may_not_see_is_access_denied(
    secret_server: DevServer, configure: Configure, secret_id: int
) -> None:
    configure(username="scanner", password="scanner-dev-password")
    result = run("secret", "get", str(secret_id), "--field", "password")
    assert result.code == 1 and len(result.err.splitlines()) == 1
    assert "access denied" in result.err
    assert_no_secrets(result.everything, [PASSWORD])


def test_a_secret_requiring_a_comment_takes_comment(
    secret_server: DevServer, configure: Configure
) -> None:
    configure()
    restricted = secret_server.add_secret(
        "needs-comment", {"username": "u", "password": PASSWORD}, requires_comment=True
    )
    refused = run("secret", "get", str(restricted), "--field", "password")
    assert refused.code == 1 and "requires a comment" in refused.err
    allowed = run("secret", "get", str(restricted), "--field", "password", "--comment", "audit")
    assert allowed.code == 0 and allowed.out == PASSWORD + "\n"


def test_entry_picks_another_thycotic_entry(
    secret_server: DevServer, configure: Configure, secret_id: int
) -> None:
    dr_login = {"username": "dr-reader", "password": "wrong-dr-password"}
    dr = {"type": "thycotic", **secret_server.thycotic_table(**dr_login)}
    configure(name="primary", chain=["primary", "dr"], extra={"dr": dr})
    assert run("secret", "get", str(secret_id), "--field", "username").code == 0
    refused = run("secret", "get", str(secret_id), "--field", "username", "--entry", "dr")
    assert refused.code == 1 and "refused the login" in refused.err
    unknown = run("secret", "get", str(secret_id), "--entry", "nope")
    assert unknown.code == 1 and "no entry 'nope' (thycotic entries: primary, dr)" in unknown.err


def test_default_is_the_first_thycotic_entry_of_the_chain(
    secret_server: DevServer, configure: Configure, secret_id: int
) -> None:
    broken_login = {"username": "nobody", "password": "wrong-pw-0"}
    broken = {"type": "thycotic", **secret_server.thycotic_table(**broken_login)}
    script = {"type": "custom-script"}
    configure(
        name="good", chain=["script", "good", "broken"], extra={"broken": broken, "script": script}
    )
    assert run("secret", "get", str(secret_id), "--field", "username").out == "root\n"
