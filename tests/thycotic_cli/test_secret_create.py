"""``credchain secret create``: seed 003's script as a command; the server's refusals, one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from thycotic_cli_helpers import Configure, Result, client_settings, finish, run, spawn

from credchain.devserver import DevServer
from credchain.testing.secrets import assert_no_secrets

pytestmark = pytest.mark.timeout(60)

NEW_PASSWORD = "Planted-New-Pw-8k"
NETWORK = "\\Infrastructure\\Network"


def stored(server: DevServer, secret_id: int) -> dict[str, str]:
    return {slug: server.store.secrets[secret_id].value(slug) for slug in ("username", "password")}


def create(
    *extra: str, stdin: str | None = None, name: str = "new-host.corp.example.com"
) -> Result:
    return run("secret", "create", "--name", name, *extra, stdin=stdin)


def test_password_stdin_creates_and_prints_the_new_id(
    secret_server: DevServer, configure: Configure
) -> None:
    configure()
    result = create(
        "--folder",
        NETWORK,
        "--field",
        "username=foo",
        "--password-stdin",
        stdin=NEW_PASSWORD + "\n",
    )
    assert result.code == 0, result.err
    secret_id = int(result.out)
    assert result.out == f"{secret_id}\n"
    assert stored(secret_server, secret_id) == {"username": "foo", "password": NEW_PASSWORD}
    assert secret_server.store.secrets[secret_id].folder_id == 4
    assert secret_server.store.secrets[secret_id].template.name == "Password"
    assert_no_secrets(result.everything, [NEW_PASSWORD, secret_server.admin.password])


def test_the_creator_is_recorded(secret_server: DevServer, configure: Configure) -> None:
    configure()
    secret_id = int(create("--folder", "4", "--field", "username=u", "--field", "password=p").out)
    assert [(c["secretId"], c["createdBy"]) for c in secret_server.created()] == [
        (secret_id, "admin")
    ]


def test_template_by_name_and_fields_by_name(
    secret_server: DevServer, configure: Configure
) -> None:
    configure()
    result = create(
        "--folder",
        "\\Infrastructure\\Windows",
        "--template",
        "windows account",
        "--field",
        "Machine=win-new",
        "--field",
        "username=Administrator",
        "--password-stdin",
        stdin=NEW_PASSWORD,  # no final newline: still one line
    )
    assert result.code == 0, result.err
    record = secret_server.store.secrets[int(result.out)]
    assert record.template.id == 6003 and record.folder_id == 2
    assert record.value("machine") == "win-new" and record.value("password") == NEW_PASSWORD


def test_template_by_id(secret_server: DevServer, configure: Configure) -> None:
    configure()
    result = create(
        "--folder", "6", "--template", "6001", "--field", "username=u", "--field", "password=p"
    )
    assert secret_server.store.secrets[int(result.out)].template.name == "Active Directory Account"


def test_stdin_fills_each_password_field_in_order(
    secret_server: DevServer, configure: Configure
) -> None:
    configure()
    result = create(
        "--folder",
        "3",
        "--template",
        "Unix Account (SSH)",
        "--field",
        "username=root",
        "--password-stdin",
        stdin="first-Pw-1\nsecond-Pw-2\n",
    )
    record = secret_server.store.secrets[int(result.out)]
    assert record.value("password") == "first-Pw-1"
    assert record.value("private-key-passphrase") == "second-Pw-2"


def test_a_name_taken_in_the_folder_is_one_line(
    secret_server: DevServer, configure: Configure
) -> None:
    configure()
    args = ("--folder", NETWORK, "--field", "username=u", "--field", "password=p")
    assert create(*args, name="dup-host").code == 0
    result = create(*args, name="dup-host")
    assert result.code == 1 and result.out == ""
    assert result.err == (
        "credchain: error: creating secret 'dup-host': a secret of that name already exists "
        "in \\Infrastructure\\Network\n"
    )


def test_a_folder_that_does_not_exist_is_one_line(configure: Configure) -> None:
    configure()
    by_path = create("--folder", "\\Nowhere", "--field", "username=u", "--field", "password=p")
    assert by_path.code == 1
    assert by_path.err == (
        "credchain: error: folder '\\Nowhere': not found, or not visible to this account\n"
    )
    by_id = create("--folder", "999", "--field", "username=u", "--field", "password=p")
    assert by_id.code == 1 and "folder 999: not found" in by_id.err


def test_access_denied_is_one_line(configure: Configure) -> None:
    configure(username="scanner", password="scanner-dev-password")
    result = create("--folder", NETWORK, "--field", "username=u", "--field", "password=p")
    assert result.code == 1 and len(result.err.splitlines()) == 1
    assert "access denied: this account may not add secrets to \\Infrastructure\\Network" in (
        result.err
    )


def test_a_required_field_left_empty_is_one_line(configure: Configure) -> None:
    configure()
    result = create("--folder", NETWORK, "--password-stdin", stdin="pw\n")
    assert result.code == 1
    assert result.err == (
        "credchain: error: creating secret 'new-host.corp.example.com': The field Username is "
        "required. (template 'Password'; give it with --field SLUG=VALUE)\n"
    )


def test_a_field_the_template_lacks_is_a_usage_error(configure: Configure) -> None:
    configure()
    result = create("--folder", NETWORK, "--field", "colour=blue")
    assert result.code == 2
    assert "no field 'colour' (its fields: resource, username, password, notes)" in result.err


def test_a_field_without_equals_never_echoes_it(configure: Configure) -> None:
    configure()
    result = create("--folder", NETWORK, "--field", "username=u", "--field", "Planted-Oops-5")
    assert result.code == 2 and "the 2nd --field is not SLUG=VALUE" in result.err
    assert_no_secrets(result.everything, ["Planted-Oops-5"])


def test_an_unknown_template_name_is_one_line(configure: Configure) -> None:
    configure()
    result = create("--folder", NETWORK, "--template", "Nope")
    assert result.code == 1 and "no secret template named 'Nope'" in result.err


def test_client_credentials_create_as_the_sdk_clients_user(
    secret_server: DevServer, configure: Configure
) -> None:
    configure(**client_settings())
    result = create(
        "--folder", "\\Scan Accounts", "--field", "username=svc", "--field", "password=p"
    )
    assert result.code == 0, result.err
    assert secret_server.created()[0]["createdBy"] == "scanner"
    assert secret_server.get_stats()["grants"]["client_credentials"] == 1


def test_hidden_prompts_ask_twice_and_again_when_they_differ(
    secret_server: DevServer, configure: Configure, home: Path
) -> None:
    configure()
    child = spawn(
        ["secret", "create", "--name", "pty-host", "--folder", NETWORK, "--field", "username=foo"],
        home,
    )
    child.expect_exact("Enter Password: ")
    child.sendline(NEW_PASSWORD)
    child.expect_exact("Verify Password: ")
    child.sendline("Planted-Typo-2")
    child.expect_exact("do not match")
    child.expect_exact("Enter Password: ")
    child.sendline(NEW_PASSWORD)
    child.expect_exact("Verify Password: ")
    child.sendline(NEW_PASSWORD)
    code, output = finish(child)
    assert code == 0, output
    secret_id = int(output.strip().splitlines()[-1])
    assert stored(secret_server, secret_id) == {"username": "foo", "password": NEW_PASSWORD}
    assert "Created secret" in output
    assert_no_secrets(output, [NEW_PASSWORD, "Planted-Typo-2"])  # hidden input: never echoed


def test_each_password_field_is_prompted_in_template_order(
    secret_server: DevServer, configure: Configure, home: Path
) -> None:
    configure()
    child = spawn(
        [
            "secret",
            "create",
            "--name",
            "pty-unix",
            "--folder",
            "3",
            "--template",
            "Unix Account (SSH)",
            "--field",
            "username=root",
        ],
        home,
    )
    for label, value in (("Password", "pty-Pw-1"), ("Private Key Passphrase", "pty-Pw-2")):
        child.expect_exact(f"Enter {label}: ")
        child.sendline(value)
        child.expect_exact(f"Verify {label}: ")
        child.sendline(value)
    code, output = finish(child)
    assert code == 0, output
    record = secret_server.store.secrets[int(output.strip().splitlines()[-1])]
    assert record.value("private-key-passphrase") == "pty-Pw-2"
