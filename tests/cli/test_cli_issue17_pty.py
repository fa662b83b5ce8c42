"""Issue 17, the admin, in a real pseudo-terminal: trusting a certificate on the spot, a re-run
that keeps the stored password, and the dev server's ready output on a terminal."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pexpect
import pytest
from cli_helpers import ASSET, ASSET_SECRETS, add_args, finish, log, port_of, run, spawn

from credchain.devserver import DevServer
from credchain.testing.secrets import assert_no_secrets

pytestmark = pytest.mark.timeout(60)


def answer_until_verify_ssl(child: pexpect.spawn, server: DevServer, verify: str) -> None:
    child.expect_exact("Thycotic URL: ")
    child.sendline("https://127.0.0.1")
    for _ in range(2):  # the two paths: their defaults
        child.expect_exact("]: ")
        child.sendline("")
    child.expect_exact("Thycotic port [443]: ")
    child.sendline(str(port_of(server)))
    child.expect_exact("Thycotic username: ")
    child.sendline(server.admin.username)
    child.expect_exact("Thycotic Password: ")
    child.sendline(server.admin.password)
    child.expect_exact("Verify SSL [Y/n]: ")
    child.sendline(verify)


def answer_mapping_defaults(child: pexpect.spawn) -> None:
    for _ in range(5):  # SAFE field, Thycotic field, username, password, privilege
        child.expect(r"\]: |\(optional; - for none\): ")
        child.sendline("")
    child.expect_exact("Enter a valid Thycotic Field value to test script sanity")
    child.sendline(ASSET)


def saved_table(home: Path) -> dict[str, object]:
    table: dict[str, object] = tomllib.loads((home / "credchain.toml").read_text())["providers"][
        "thycotic"
    ]
    return table


def test_an_untrusted_certificate_is_trusted_on_the_spot_with_a_ca_file(
    secret_server: DevServer, home: Path
) -> None:
    child = spawn(["add"], home)
    answer_until_verify_ssl(child, secret_server, "y")
    child.expect_exact("It is not trusted by this host's trust store")
    child.expect_exact("Trust it how? 1: a CA file (PEM) that issued it, 2: pin the certificate")
    child.sendline("1")
    child.expect_exact("CA file (PEM): ")
    child.sendline(secret_server.ca_cert or "")
    child.expect_exact("The certificate is trusted with the CA file")
    child.expect_exact("logged in as 'admin'")
    answer_mapping_defaults(child)
    code, _ = finish(child)
    assert code == 0, log(child)
    table = saved_table(home)
    assert table["verify_ssl"] is True and table["ca_bundle"] == secret_server.ca_cert
    assert_no_secrets(log(child), [secret_server.admin.password, *ASSET_SECRETS])


def test_an_untrusted_certificate_can_be_pinned_on_the_spot(
    secret_server: DevServer, home: Path
) -> None:
    child = spawn(["add"], home)
    answer_until_verify_ssl(child, secret_server, "")
    child.expect_exact("SHA-256 fingerprint: ")
    child.expect_exact("Trust it how?")
    child.sendline("2")
    child.expect_exact("Pinned certificate")
    child.expect_exact("logged in as 'admin'")
    answer_mapping_defaults(child)
    code, _ = finish(child)
    assert code == 0, log(child)
    table = saved_table(home)
    assert table["verify_ssl"] is False and "ca_bundle" not in table
    assert secret_server.fingerprint_sha256 is not None
    assert table["fingerprint_sha256"] == secret_server.fingerprint_sha256.replace(":", "").lower()


def test_a_rerun_keeps_the_stored_password_and_test_value_on_enter(
    secret_server: DevServer, home: Path
) -> None:
    assert run(*add_args(secret_server))[0] == 0
    stored = saved_table(home)["password"]
    child = spawn(["add"], home)
    for _ in range(5):  # URL, paths, port, username: the stored answers
        child.expect(r"\]: ")
        child.sendline("")
    child.expect_exact("Thycotic Password (Enter keeps the stored one): ")
    child.sendline("")
    child.expect_exact("Verify SSL [y/N]: ")
    child.sendline("")
    child.expect_exact("Certificate signature")
    child.sendline("")
    child.expect_exact("logged in as 'admin'")
    for _ in range(5):
        child.expect(r"\]: |\(optional; - for none\): ")
        child.sendline("")
    child.expect_exact(f"Enter a valid Thycotic Field value to test script sanity [{ASSET}]: ")
    child.sendline("")
    code, _ = finish(child)
    assert code == 0, log(child)
    assert saved_table(home)["password"] == stored
    assert_no_secrets(log(child), [secret_server.admin.password, *ASSET_SECRETS])


def test_dev_server_on_a_terminal_says_how_to_configure_credchain(
    home: Path, tmp_path: Path
) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "credchain", "dev-server", "--port", "0", "--cert-dir", str(tmp_path / "certs")],
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 250),
    )
    child.expect(r"(\{.*\})\r\n")
    info = json.loads(child.match.group(1))
    child.expect_exact("To configure credchain against it:")
    child.expect_exact(f"--ca-bundle {tmp_path / 'certs' / 'ca.pem'}")
    child.expect_exact(f"--no-verify-ssl --fingerprint {info['fingerprint_sha256']}")
    child.kill(2)
    child.expect(pexpect.EOF)
    again = pexpect.spawn(
        sys.executable,
        ["-m", "credchain", "dev-server", "--port", "0", "--cert-dir", str(tmp_path / "certs")],
        encoding="utf-8",
        timeout=20,
    )
    again.expect(r"(\{.*\})\r\n")
    assert json.loads(again.match.group(1))["fingerprint_sha256"] == info["fingerprint_sha256"]
    again.kill(2)
    again.expect(pexpect.EOF)
