"""``credchain add --yes``: every prompt has a flag; every FAQ case gives its advice."""

from __future__ import annotations

import json
import socket
import tomllib
from pathlib import Path

import pytest
from cli_helpers import ASSET_SECRETS, add_args, mode, run

from credchain.config import load_config
from credchain.devserver import DevServer
from credchain.errors import ProviderError
from credchain.testing.secrets import assert_no_secrets
from credchain_thycotic.settings import ThycoticSettings


def config_doc(home: Path) -> dict[str, object]:
    return tomllib.loads((home / "credchain.toml").read_text())


def flat(text: str) -> str:
    return " ".join(text.split())


def test_add_yes_saves_an_encrypted_config_and_the_mapping(
    secret_server: DevServer, home: Path
) -> None:
    code, out, err = run(*add_args(secret_server))
    assert code == 0, err
    assert "Status: Enabled" in out
    doc = config_doc(home)
    assert doc["chain"] == ["thycotic"] and doc["enabled"] is True
    table = doc["providers"]["thycotic"]  # type: ignore[index]
    assert table["password"].startswith("enc:")
    assert table["mapping_file"] == "integrations/custom/thycotic/thycotic_mapping.json"
    mapping = json.loads((home / table["mapping_file"]).read_text())
    assert mapping["thycoticFieldName"] == "Secret Name"
    settings = ThycoticSettings.model_validate(dict(load_config().entry("thycotic").settings))
    assert settings.password is not None
    assert settings.password.get_secret_value() == secret_server.admin.password
    assert_no_secrets(
        out + err + (home / "credchain.toml").read_text(),
        [
            secret_server.admin.password,
            *ASSET_SECRETS,
        ],
    )


def test_home_is_0700_and_its_files_0600(secret_server: DevServer, home: Path) -> None:
    home.chmod(0o755)
    assert run(*add_args(secret_server))[0] == 0
    assert mode(home) == 0o700
    for name in ("credchain.toml", "secret.key", "last_test.json"):
        assert mode(home / name) == 0o600, name
    mapping = home / "integrations/custom/thycotic/thycotic_mapping.json"
    assert mode(mapping) == 0o600
    for directory in (mapping.parent, mapping.parent.parent, mapping.parent.parent.parent):
        assert mode(directory) == 0o700, directory


def test_add_with_a_ca_bundle_verifies_instead_of_pinning(
    secret_server: DevServer, home: Path
) -> None:
    assert secret_server.ca_cert is not None
    code, _, err = run(
        *add_args(secret_server, "--ca-bundle", secret_server.ca_cert, fingerprint=None)
    )
    assert code == 0, err
    table = config_doc(home)["providers"]["thycotic"]  # type: ignore[index]
    assert table["verify_ssl"] is True and "fingerprint_sha256" not in table


def test_add_again_overrides_and_keeps_the_rest(
    secret_server: DevServer, home: Path, write_config: object
) -> None:
    assert run(*add_args(secret_server))[0] == 0
    doc = config_doc(home)
    doc["providers"]["thycotic"]["comment"] = "credchain scan"  # type: ignore[index]
    doc["providers"]["lab"] = {"type": "thycotic", "url": "https://lab", "port": 1}  # type: ignore[index]
    doc["chain"] = ["lab", "thycotic"]
    doc["enabled"] = False
    write_config(doc)  # type: ignore[operator]
    code, out, err = run(
        *add_args(secret_server, "--thycotic-field", "Secret Name", username="admin")
    )
    assert code == 0, err
    after = config_doc(home)
    assert after["chain"] == ["lab", "thycotic"] and after["enabled"] is False
    assert after["providers"]["thycotic"]["comment"] == "credchain scan"  # type: ignore[index]
    assert after["providers"]["lab"]["url"] == "https://lab"  # type: ignore[index]
    assert "Status: Disabled (run: credchain enable)" in out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"url": None}, "--url is required with --yes"),
        ({"test_value": None}, "--test-value is required with --yes"),
        ({"url": "ftp://vault"}, "must be an https URL"),
        ({"fingerprint": "12:34"}, "64 hex digits"),
        ({"safe_field": "hostname"}, "choose one of 1, 2, 3"),
    ],
)
def test_usage_errors_exit_2_naming_the_flag(
    secret_server: DevServer, home: Path, flags: dict[str, str | None], message: str
) -> None:
    code, _, err = run(*add_args(secret_server, **flags))
    assert code == 2 and message in err
    assert not (home / "credchain.toml").exists()


def test_no_verify_ssl_with_yes_needs_a_fingerprint(secret_server: DevServer, home: Path) -> None:
    args = add_args(secret_server, fingerprint=None)
    args[args.index("--verify-ssl")] = "--no-verify-ssl"
    code, _, err = run(*args)
    assert code == 2 and "--no-verify-ssl needs --fingerprint" in err


# -- the FAQ, one case each -------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_faq_unreachable_url_or_port(secret_server: DevServer, home: Path) -> None:
    code, _, err = run(*add_args(secret_server, port=str(closed_port())))
    assert code == 1
    assert "is reachable from this host" in flat(err) and "FAQ 1" in err
    assert "Traceback" not in err and not (home / "credchain.toml").exists()


def test_faq_tls_failure_suggests_pinning_the_presented_fingerprint(
    secret_server: DevServer, home: Path
) -> None:
    code, _, err = run(*add_args(secret_server, fingerprint=None))  # system store: untrusted
    text = flat(err)
    assert code == 1
    assert "is not trusted by this host's trust store" in text
    assert f"--no-verify-ssl --fingerprint {secret_server.fingerprint_sha256}" in text
    assert "--ca-bundle FILE" in text and "Username" not in text
    assert not (home / "credchain.toml").exists()


def test_faq_pinned_fingerprint_mismatch(secret_server: DevServer, home: Path) -> None:
    code, _, err = run(*add_args(secret_server, fingerprint="ab" * 32))
    assert code == 1 and "it may not be your Secret Server" in flat(err)
    assert "The certificate is not the one pinned" in flat(err)


def test_faq_login_refused(secret_server: DevServer, home: Path) -> None:
    code, out, err = run(*add_args(secret_server, password="wrong-Pw-41"))
    assert code == 1
    assert "refused the login for user 'admin'" in err
    assert "Check the Thycotic username and password" in err and "Nothing was saved" in err
    assert_no_secrets(out + err, ["wrong-Pw-41"])


def test_faq_wrong_field_name(secret_server: DevServer, home: Path) -> None:
    code, out, err = run(*add_args(secret_server, password_field="Password2"))
    text = flat(err)
    assert code == 1
    assert "'Password2'" in text and "not a field of the secret" in text
    assert str(home / "integrations/custom/thycotic/thycotic_mapping.json") in text
    assert "FAQ 2" in text and "test-thycotic-script" in text
    assert not (home / "credchain.toml").exists()
    assert_no_secrets(out + err, ASSET_SECRETS)


def test_faq_no_data_returned(secret_server: DevServer, home: Path) -> None:
    code, _, err = run(*add_args(secret_server, test_value="no-such-asset"))
    text = flat(err)
    assert code == 1
    assert "no secret for Secret Name = 'no-such-asset'" in text
    assert "Thycotic field is searchable" in text and "FAQ 3" in text


def test_debug_shows_the_traceback(secret_server: DevServer, home: Path) -> None:
    from click.testing import CliRunner

    from credchain.cli import main

    result = CliRunner().invoke(main, ["--debug", *add_args(secret_server, password="bad-pw-9")])
    assert isinstance(result.exception, ProviderError)


def test_sanity_value_of_another_safe_field(secret_server: DevServer, home: Path) -> None:
    code, out, err = run(
        *add_args(secret_server, safe_field="2", thycotic_field="Resource", test_value="10.0.1.37")
    )
    assert code == 0, err
    assert "netadmin" in out
    mapping = json.loads((home / "integrations/custom/thycotic/thycotic_mapping.json").read_text())
    assert mapping["safeFieldName"] == "ip_address" and mapping["thycoticFieldName"] == "Resource"
