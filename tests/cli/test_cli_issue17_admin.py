"""Issue 17, the admin: what a Secret Server admin coming from SAFE's script tripped on.

Each test is one item, against the dev server over real TLS; secrets are planted and scanned for.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import ASSET, ASSET_SECRETS, add_args, run

from credchain.devserver import DevServer
from credchain.testing.secrets import assert_no_secrets
from credchain.tls import normalize_fingerprint

WriteConfig = Callable[[dict[str, object]], Path]
MAPPING = "integrations/custom/thycotic/thycotic_mapping.json"
CLIENT_ID, CLIENT_SECRET = "scanner-client", "scanner-client-secret"


def flat(text: str) -> str:
    return " ".join(text.split())


def table_of(home: Path, name: str = "thycotic") -> dict[str, object]:
    document = tomllib.loads((home / "credchain.toml").read_text())
    found: dict[str, object] = document["providers"][name]
    return found


def entry_config(server: DevServer, **settings: object) -> dict[str, object]:
    return {"chain": ["thycotic"], "providers": {"thycotic": server.thycotic_table(**settings)}}


# -- item 1: Verify SSL = Yes on a certificate the host does not trust ----------------------------


def test_untrusted_certificate_fails_before_the_login_in_flag_language(
    secret_server: DevServer, home: Path
) -> None:
    code, out, err = run(*add_args(secret_server, fingerprint=None))
    assert code == 1
    text = flat(err)
    assert "not trusted by this host's trust store" in text
    assert "--ca-bundle FILE" in text and "--no-verify-ssl --fingerprint" in text
    assert "logged in" not in out and secret_server.get_stats()["grants"]["password"] == 0
    assert "ca_bundle" not in text and "verify_ssl" not in text  # no config-file language


# -- item 2: a re-run keeps what is stored --------------------------------------------------------


def test_rerun_with_yes_keeps_password_ca_bundle_and_test_value(
    secret_server: DevServer, home: Path
) -> None:
    ca = secret_server.ca_cert
    assert ca is not None
    first = run(*add_args(secret_server, "--ca-bundle", ca, fingerprint=None))
    assert first[0] == 0, first[2]
    stored = table_of(home)
    code, out, err = run("add", "--yes")  # no password, no CA file, no test value given
    assert code == 0, err
    again = table_of(home)
    assert again["password"] == stored["password"] and again["ca_bundle"] == ca
    assert "Sanity test passed" in out
    assert_no_secrets(out + err, [secret_server.admin.password, *ASSET_SECRETS])


def test_pin_repins_a_renewed_certificate_after_showing_it(
    secret_server: DevServer, home: Path
) -> None:
    assert run(*add_args(secret_server))[0] == 0
    old = table_of(home)["fingerprint_sha256"]
    new = secret_server.swap_certificate()
    assert new is not None
    assert run("test", "--asset-name", ASSET)[0] == 1  # the pin no longer matches
    code, out, err = run("pin", "thycotic", "--fingerprint", "ab" * 32)
    assert code == 1 and "Nothing was saved" in flat(err)
    code, out, err = run("pin", "thycotic", stdin="y\n")
    assert code == 0, err
    assert new in out and "CN=" in out and "Pinned certificate" in out
    assert table_of(home)["fingerprint_sha256"] == normalize_fingerprint(new) != old
    assert run("test", "--asset-name", ASSET)[0] == 0


# -- item 3: the mapping is validated -------------------------------------------------------------


def test_an_unknown_key_in_the_mapping_file_is_an_error_naming_it(
    secret_server: DevServer, home: Path
) -> None:
    assert run(*add_args(secret_server))[0] == 0
    path = home / MAPPING
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "extendedField": ["password", "username"]}))
    code, _, err = run("test", "--asset-name", ASSET)
    assert code == 1 and "'extendedField'" in err and "unknown key" in err


def test_a_privilege_field_the_template_lacks_fails_the_sanity_test(
    secret_server: DevServer, home: Path
) -> None:
    code, _, err = run(*add_args(secret_server, privilege_password_field="Root Password"))
    assert code == 1
    assert "'Root Password'" in err and "its fields are" in err
    assert not (home / "credchain.toml").exists()


def test_test_checks_every_mapped_field_against_the_template(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    mapping = {"privilege_password_field": "Root Password"}
    write_config(entry_config(secret_server, mapping=mapping))
    code, out, err = run("test", "--asset-name", ASSET)
    assert code == 1 and "'Root Password'" in err and "its fields are" in err
    write_config(
        entry_config(secret_server, mapping={"privilege_password_field": "Privilege Password"})
    )
    code, out, err = run("test", "--asset-name", ASSET)
    assert code == 0, err
    assert "has every mapped field" in out
    assert_no_secrets(out + err, ASSET_SECRETS)


def test_a_dash_clears_the_optional_privilege_field(secret_server: DevServer, home: Path) -> None:
    assert run(*add_args(secret_server, privilege_password_field="privilege-password"))[0] == 0
    assert run(*add_args(secret_server, privilege_password_field="-"))[0] == 0
    fields = json.loads((home / MAPPING).read_text())["extendedFields"]
    assert fields == ["password", "username"]


# -- item 4: case rules said truthfully -----------------------------------------------------------


def test_not_found_advice_says_what_the_search_does_with_case(
    secret_server: DevServer, home: Path
) -> None:
    assert run(*add_args(secret_server))[0] == 0
    code, _, err = run("test", "--asset-name", "no-such-host.example.com")
    text = flat(err)
    assert code == 3
    assert "case-sensitive" not in text and "in any case" in text
    code, _, err = run("test", "--asset-name", ASSET.upper())  # the search ignores case
    assert code == 0, err


# -- item 5: a URL that already ends in /SecretServer ---------------------------------------------


def test_a_url_ending_in_secretserver_is_detected(secret_server: DevServer, home: Path) -> None:
    code, out, err = run(*add_args(secret_server, url="https://127.0.0.1/SecretServer"))
    assert code == 0, err
    assert "The URL ends in /SecretServer" in out and "/SecretServer/oauth2/token" in out
    assert table_of(home)["url"] == "https://127.0.0.1"


def test_a_wrong_token_path_names_the_url_tried(secret_server: DevServer, home: Path) -> None:
    code, _, err = run(*add_args(secret_server, auth_path="Other/oauth2/token"))
    assert code == 1 and "/Other/oauth2/token answered HTTP 404" in err


# -- item 6: enable and status warn ---------------------------------------------------------------


def test_status_never_shows_enabled_over_a_chain_that_cannot_resolve(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    table = secret_server.thycotic_table(password=None, password_env="NOT_SET_VAULT_PW")
    write_config({"chain": ["thycotic"], "providers": {"thycotic": table}})
    code, out, err = run("status")
    assert code == 0
    assert out.splitlines()[0] == "Enabled, but broken: resolve will fail"
    assert "NOT_SET_VAULT_PW" in err
    assert json.loads(run("status", "--json")[1])["problems"]
    code, out, err = run("enable")
    assert out.startswith("Enabled, but broken") and "NOT_SET_VAULT_PW" in err


def test_enable_and_status_warn_when_the_last_test_failed(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    write_config(entry_config(secret_server))
    assert run("test", "--asset-name", "no-such-host.example.com")[0] == 3
    for command in ("status", "enable"):
        code, out, err = run(command)
        assert code == 0 and out.splitlines()[0] == "Enabled"
        assert "warning: the last test failed" in err


# -- item 7: a custom script's own message, under --debug only ------------------------------------

PLANTED = "Planted-Script-Message-93"


def write_raising_script(home: Path) -> None:
    directory = home / "integrations/custom/thycotic"
    directory.mkdir(parents=True, mode=0o700)
    path = directory / "thycotic_script.py"
    path.write_text(
        "def lookup(q):\n"
        f"    raise ValueError({PLANTED!r})\n"
        "\n"
        "def get_password_from_thycotic(query_data):\n"
        "    return lookup(query_data)\n"
    )
    path.chmod(0o600)


def test_a_script_exception_is_shown_under_debug_only(
    home: Path, write_config: WriteConfig
) -> None:
    write_raising_script(home)
    write_config({"chain": ["custom-script"], "providers": {"custom-script": {"workers": 1}}})
    code, out, err = run("test", "--asset-name", ASSET)
    assert code == 1 and "raised ValueError at line 2" in err
    assert_no_secrets(out + err, [PLANTED])
    code, out, err = run("--debug", "test", "--asset-name", ASSET)
    assert code == 1
    assert PLANTED in err and "Traceback" in err and "in lookup" in err
    assert "credchain_custom_script" not in err.split("--debug:", 1)[1]  # the script's frames


# -- item 8: not-found advice is the provider's own -----------------------------------------------


def test_a_script_only_chain_gets_no_thycotic_advice(home: Path, write_config: WriteConfig) -> None:
    directory = home / "integrations/custom/thycotic"
    directory.mkdir(parents=True, mode=0o700)
    path = directory / "thycotic_script.py"
    path.write_text("def get_password_from_thycotic(query_data):\n    return None\n")
    path.chmod(0o600)
    write_config({"chain": ["custom-script"], "providers": {"custom-script": {"workers": 1}}})
    code, _, err = run("test", "--asset-name", ASSET)
    text = flat(err)
    assert code == 3 and 'answered "not here"' in text
    for thycotic in ("Secret Server", "thycotic_mapping.json", "Thycotic field"):
        assert thycotic not in text


def test_a_thycotic_chain_gets_the_mapping_advice(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    write_config(entry_config(secret_server))
    code, _, err = run("test", "--asset-name", "no-such-host.example.com")
    assert code == 3 and "Secret Server returned no secret for Secret Name" in flat(err)


# -- item 9: domain fallback from add; the chain warning ------------------------------------------


def test_add_sets_up_a_domain_fallback_entry_after_thycotic(
    secret_server: DevServer, home: Path
) -> None:
    code, _, err = run(
        *add_args(secret_server),
        "--domain-fallback",
        "--fallback-domains",
        "CORP, LAB",
        "--default-domain",
        "CORP",
        "--fallback-to-local",
        "--fallback-username",
        "svc-scan",
    )
    assert code == 0, err
    document = tomllib.loads((home / "credchain.toml").read_text())
    assert document["chain"] == ["thycotic", "domain-fallback"]
    assert document["providers"]["domain-fallback"] == {
        "type": "domain-fallback",
        "connection": "thycotic",
        "domains": ["CORP", "LAB"],
        "default_domain": "CORP",
        "fallback_to_local": True,
        "username": "svc-scan",
    }
    assert run("test", "domain-fallback", "--asset-name", "db-02.corp.example.com")[0] in (0, 3)


def test_add_refuses_domain_fallback_settings_its_provider_refuses(
    secret_server: DevServer, home: Path
) -> None:
    code, _, err = run(
        *add_args(secret_server), "--domain-fallback", "--fallback-domains", "CORP",
        "--fallback-to-local",
    )  # fmt: skip
    assert code == 2 and "fallback_to_local needs username" in err


def test_an_entry_answering_every_asset_before_others_is_warned_about(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    fallback = {
        "type": "domain-fallback",
        "connection": "thycotic",
        "domains": ["CORP"],
        "default_domain": "CORP",
        "fallback_to_local": True,
        "username": "svc-scan",
    }
    document = entry_config(secret_server)
    document["providers"] = {**document["providers"], "windows": fallback}  # type: ignore[dict-item]
    document["chain"] = ["windows", "custom-script"]
    write_config(document)
    code, _, err = run("chain", "show")
    assert code == 0 and "'windows' (domain-fallback) answers for every asset" in flat(err)
    assert "default_domain and fallback_to_local" in err and "(custom-script)" in err
    _, _, err = run("test")
    assert "answers for every asset" in err
    document["chain"] = ["custom-script", "windows"]
    write_config(document)
    assert "answers for every asset" not in run("chain", "show")[2]


# -- polish (18) ----------------------------------------------------------------------------------


def test_configure_thycotic_usage_names_the_command_once(home: Path) -> None:
    code, _, err = run("configure-thycotic", "-o", "status", "--bogus")
    assert code == 2
    assert " configure-thycotic -o status [OPTIONS]" in err
    assert "configure-thycotic configure-thycotic" not in err


def test_test_with_client_credentials_names_the_client(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    client = {"grant": "client_credentials", "username": None, "password": None}
    write_config(
        entry_config(secret_server, **client, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    )
    code, out, err = run("test")
    assert code == 0, err
    assert f"as '{CLIENT_ID}'" in out and "None" not in out


def test_a_bad_client_secret_gets_client_advice_not_domain_advice(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    client = {"grant": "client_credentials", "username": None, "password": None}
    write_config(entry_config(secret_server, **client, client_id=CLIENT_ID, client_secret="Bad-1"))
    code, _, err = run("test")
    text = flat(err)
    assert code == 1 and "refused the login for client 'scanner-client'" in text
    assert "SDK client id 'scanner-client' and its secret" in text
    assert "--domain" not in text and "username" not in text
    assert_no_secrets(err, ["Bad-1"])


def test_a_domain_account_is_shown_with_one_backslash(
    secret_server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    write_config(entry_config(secret_server, username="CORP\\svc-scan"))
    _, _, err = run("test")
    assert "user 'CORP\\svc-scan'" in err and "CORP\\\\svc-scan" not in err


@pytest.mark.parametrize(
    ("command", "option", "words"),
    [(["dev-server"], "--data FILE", "dataset"), (["script", "check"], "--script FILE", "check")],
)
def test_help_describes_the_options(command: list[str], option: str, words: str) -> None:
    _, out, _ = run(*command, "--help")
    line = next(line for line in out.splitlines() if option in line)
    assert words in line


def test_dev_server_cert_dir_keeps_the_certificate(tmp_path: Path) -> None:
    from credchain.devserver import DevServer as Server

    first = Server(cert_dir=tmp_path / "certs")
    again = Server(cert_dir=tmp_path / "certs")
    other = Server()
    assert first.fingerprint_sha256 == again.fingerprint_sha256 != other.fingerprint_sha256
    assert first.ca_cert == str(tmp_path / "certs" / "ca.pem")
    assert (tmp_path / "certs" / "server.key").stat().st_mode & 0o777 == 0o600
    for server in (first, again, other):
        server.close()
