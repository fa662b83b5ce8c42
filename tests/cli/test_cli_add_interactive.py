"""``credchain configure-thycotic`` (``add``) driven end to end in a pseudo-terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pexpect
import pytest
from cli_helpers import ASSET, ASSET_SECRETS, finish, log, port_of, run, spawn

from credchain.devserver import DevServer
from credchain.testing.secrets import assert_no_secrets

pytestmark = pytest.mark.timeout(60)


def answer_connection(child: pexpect.spawn, server: DevServer, password: str) -> None:
    """Seed 000 step 3, in its order: URL, paths (defaults), port, username, password, SSL."""
    child.expect_exact("Thycotic URL: ")
    child.sendline("https://127.0.0.1")
    child.expect_exact("Thycotic authorization URL path [SecretServer/oauth2/token]: ")
    child.sendline("")
    child.expect_exact("Thycotic secrets URL path [SecretServer/api/v1/secrets]: ")
    child.sendline("")
    child.expect_exact("Thycotic port [443]: ")
    child.sendline(str(port_of(server)))
    child.expect_exact("Thycotic username: ")
    child.sendline(server.admin.username)
    child.expect_exact("Thycotic Password: ")
    child.sendline(password)
    child.expect_exact("Verify SSL [Y/n]: ")
    child.sendline("n")
    child.expect_exact("SHA-256 fingerprint: ")
    child.expect_exact("Certificate signature (SHA256 fingerprint)")


def answer_mapping(child: pexpect.spawn, username_field: str = "") -> None:
    """Seed 000 step 4: SAFE field, Thycotic field, username/password/privilege fields."""
    child.expect_exact("Select the SAFE field name for asset identification (1: Asset Name, 2:")
    child.sendline("1")
    child.expect_exact(
        "Select the Thycotic field name for asset identification (name or slug, any case)"
    )
    child.sendline("")
    child.expect_exact(
        "Enter Thycotic field name for username (name or slug, any case) [username]: "
    )
    child.sendline(username_field)
    child.expect_exact(
        "Enter the Thycotic field name for the password (name or slug, any case) [password]"
    )
    child.sendline("")
    child.expect_exact(
        "Enter the Thycotic field name for the privilege password (optional; - for none)"
    )
    child.sendline("privilege-password")
    child.expect_exact("Enter a valid Thycotic Field value to test script sanity: ")
    child.sendline(ASSET)


def test_new_admin_goes_from_nothing_to_enabled_and_passing(
    secret_server: DevServer, home: Path
) -> None:
    child = spawn(["configure-thycotic"], home)
    answer_connection(child, secret_server, secret_server.admin.password)
    child.sendline("")  # trust the certificate shown
    child.expect_exact("logged in as 'admin'")
    answer_mapping(child)
    code, _ = finish(child)
    output = log(child)
    assert code == 0, output
    assert "Sanity test passed" in output and "svc-scan" in output and "********" in output
    assert secret_server.fingerprint_sha256 in output and "CN=" in output
    assert "Status: Enabled" in output
    assert_no_secrets(output, [secret_server.admin.password, *ASSET_SECRETS])

    code, out, _ = run("configure-thycotic", "-o", "status")
    assert code == 0 and out.splitlines()[0] == "Enabled"
    code, out, err = run("configure-thycotic", "-o", "test-thycotic-script")
    assert code == 0, err
    assert "svc-scan" in out and ASSET in out
    assert_no_secrets(out + err, [secret_server.admin.password, *ASSET_SECRETS])
    mapping = json.loads((home / "integrations/custom/thycotic/thycotic_mapping.json").read_text())
    assert mapping == {
        "safeFieldName": "asset_name",
        "thycoticFieldName": "Secret Name",
        "extendedFields": ["password", "username", "privilege-password"],
    }


def test_wrong_password_is_refused_before_saving(secret_server: DevServer, home: Path) -> None:
    child = spawn(["add"], home)
    answer_connection(child, secret_server, "not-the-password-7")
    child.sendline("")
    code, _ = finish(child)
    output = log(child)
    assert code == 1
    assert "refused the login" in output and "Check the Thycotic username and password" in output
    assert "Nothing was saved" in output and "Traceback" not in output
    assert not (home / "credchain.toml").exists()
    assert_no_secrets(output, ["not-the-password-7"])


def test_fingerprint_the_admin_rejects_saves_nothing(secret_server: DevServer, home: Path) -> None:
    child = spawn(["add"], home)
    answer_connection(child, secret_server, secret_server.admin.password)
    child.sendline("AB" * 32)  # what the admin expected: not what the server presents
    code, _ = finish(child)
    output = log(child)
    assert code == 1
    assert "it may not be your Secret Server" in output and "Nothing was saved" in output
    assert not (home / "credchain.toml").exists()


def test_wrong_field_name_points_at_the_mapping_file(secret_server: DevServer, home: Path) -> None:
    child = spawn(["add"], home)
    answer_connection(child, secret_server, secret_server.admin.password)
    child.sendline("")
    answer_mapping(child, username_field="login")
    child.expect_exact("Save this configuration anyway? [y/N]: ")
    child.sendline("n")
    code, _ = finish(child)
    output = " ".join(log(child).split())
    assert code == 1
    assert "'login'" in output and "not a field of the secret" in output
    assert "thycotic_mapping.json (FAQ 2)" in output and "Nothing was saved" in output
    assert not (home / "credchain.toml").exists()
    assert_no_secrets(output, [secret_server.admin.password, *ASSET_SECRETS])
