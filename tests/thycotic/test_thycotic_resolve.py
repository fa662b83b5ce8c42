"""Finding an asset's secret: mapping, one request per asset, restricted and check-out secrets."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from thycotic_helpers import MakeResolver, settings_for

from credchain import AssetQuery
from credchain.cli import main
from credchain.devserver import DevServer, demo_password
from credchain.errors import CredentialNotFound, ProviderError
from credchain.testing.secrets import assert_no_secrets
from credchain_thycotic.settings import ThycoticSettings

WEB = "web-01.corp.example.com"


def test_settings_defaults_are_the_seeds() -> None:
    settings = ThycoticSettings(url="https://vault.example.com", username="u", password="p")  # type: ignore[arg-type]
    assert settings.auth_path == "SecretServer/oauth2/token"
    assert settings.secrets_path == "SecretServer/api/v1/secrets"
    assert settings.port == 443
    assert settings.verify_ssl is True
    assert settings.multiple_matches == "error"
    assert (
        settings.endpoint(settings.auth_path)
        == "https://vault.example.com:443/SecretServer/oauth2/token"
    )


@pytest.mark.parametrize(
    "privilege_field", ["Privilege Password", "privilege-password", "PRIVILEGE PASSWORD"]
)
def test_scan_account_by_secret_name_in_one_request(
    secret_server: DevServer, make_resolver: MakeResolver, privilege_field: str
) -> None:
    # The privilege password field by its name or its slug, in any case: one matching rule.
    resolver = make_resolver(secret_server, mapping={"privilege_password_field": privilege_field})
    resolver.resolve(AssetQuery(asset_name="web-02.corp.example.com"))  # the grant happens here
    secret_server.reset_stats()
    credential = resolver.resolve(AssetQuery(asset_name=WEB))
    assert credential.to_safe_dict() == {
        "username": "svc-scan",
        "password": base64.b64encode(demo_password(WEB).encode()).decode(),
        "privilegePassword": base64.b64encode(demo_password(WEB + ":root").encode()).decode(),
    }
    assert credential.source == "thycotic"
    assert secret_server.get_stats()["requests"] == {"GET api/v1/secrets": 1}


def test_search_by_a_field_other_than_the_name(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    secret_server.add_secret(
        "scan cred 77",
        {"resource": "CMDB-7777", "username": "cmdb-user", "password": "cmdb-pass"},
    )
    resolver = make_resolver(
        secret_server, mapping={"safe_field": "cmdb_id", "thycotic_field": "Resource"}
    )
    credential = resolver.resolve(AssetQuery(cmdb_id="CMDB-7777"))
    assert (credential.username, credential.password.get_secret_value()) == (
        "cmdb-user",
        "cmdb-pass",
    )


def test_no_match_is_not_found(secret_server: DevServer, make_resolver: MakeResolver) -> None:
    with pytest.raises(CredentialNotFound) as caught:
        make_resolver(secret_server).resolve(AssetQuery(asset_name="nowhere.example.com"))
    assert "no secret with Secret Name = 'nowhere.example.com'" in str(caught.value)


def test_query_without_the_mapped_key_is_not_found(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    with pytest.raises(CredentialNotFound, match="the query has no asset_name"):
        make_resolver(secret_server).resolve(AssetQuery(ip_address="10.0.1.11"))


def test_multiple_matches_error_by_default(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(secret_server, mapping={"thycotic_field": "Machine"})
    with pytest.raises(ProviderError, match=r"2 secrets match Machine = 'web-01.*multiple_matches"):
        resolver.resolve(AssetQuery(asset_name=WEB))


def test_multiple_matches_first_takes_the_oldest(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(
        secret_server, mapping={"thycotic_field": "Machine"}, multiple_matches="first"
    )
    credential = resolver.resolve(AssetQuery(asset_name=WEB))
    assert "took the oldest" in resolver.explain(AssetQuery(asset_name=WEB)).steps[0].reason
    assert credential.detail is not None


def test_restricted_secret_read_with_the_configured_comment(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(secret_server, comment="credchain scan")
    secret_server.reset_stats()
    credential = resolver.resolve(AssetQuery(asset_name="CORP\\Administrator"))
    assert credential.username == "Administrator"
    assert any("restricted" in route for route in secret_server.get_stats()["requests"])


def test_restricted_secret_without_comment_tells_the_admin(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    with pytest.raises(ProviderError, match=r"requires a comment.*providers\.thycotic\.comment"):
        make_resolver(secret_server).resolve(AssetQuery(asset_name="CORP\\Administrator"))


def test_check_out_secret_needs_a_second_request(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(secret_server)
    resolver.resolve(AssetQuery(asset_name=WEB))
    secret_server.reset_stats()
    credential = resolver.resolve(AssetQuery(asset_name="LAB\\break-glass"))
    assert credential.username == "break-glass"
    assert secret_server.get_stats()["requests"] == {
        "GET api/v1/secrets": 1,
        "GET api/v1/secrets/{id}": 1,
    }


def test_wrong_field_name_lists_the_fields(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(secret_server, mapping={"username_field": "user"})
    with pytest.raises(ProviderError, match=r"has no field .user.*Username.*thycotic_mapping.json"):
        resolver.resolve(AssetQuery(asset_name=WEB))


def test_access_denied_names_the_secret(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    hidden = secret_server.add_secret("hidden", {"username": "h", "password": "h-pass"})
    resolver = make_resolver(secret_server, username="scanner", password="scanner-dev-password")
    provider = resolver.chain[0].provider
    with pytest.raises(ProviderError, match=rf"secret {hidden}: access denied"):
        provider.client.get_secret(hidden)  # type: ignore[attr-defined]


def test_client_credentials_grant(secret_server: DevServer, make_resolver: MakeResolver) -> None:
    resolver = make_resolver(
        secret_server,
        grant="client_credentials",
        username=None,
        password=None,
        client_id="scanner-client",
        client_secret="scanner-client-secret",
    )
    assert resolver.resolve(AssetQuery(asset_name=WEB)).username == "svc-scan"
    assert secret_server.get_stats()["grants"]["client_credentials"] == 1


def test_wrong_password_says_so_and_shows_no_secret(
    secret_server: DevServer, make_resolver: MakeResolver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    resolver = make_resolver(secret_server, password="Wrong-Planted-Pw")
    with pytest.raises(ProviderError, match="refused the login for user 'admin'") as caught:
        resolver.resolve(AssetQuery(asset_name=WEB))
    assert_no_secrets(
        str(caught.value) + repr(caught.value) + str(caught.value.trace) + caplog.text,
        ["Wrong-Planted-Pw"],
    )


def test_secret_values_never_in_traces_errors_or_logs(
    secret_server: DevServer, make_resolver: MakeResolver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_server.add_secret("leak-check", {"username": "leaky", "password": "Planted-Pw-41ab"})
    resolver = make_resolver(secret_server, mapping={"username_field": "nope"})
    with pytest.raises(ProviderError) as caught:
        resolver.resolve(AssetQuery(asset_name="leak-check"))
    fine = make_resolver(secret_server)
    credential = fine.resolve(AssetQuery(asset_name="leak-check"))
    shown = [
        str(caught.value),
        repr(caught.value),
        str(fine.explain(AssetQuery(asset_name="leak-check"))),
        repr(credential),
        repr(fine.chain[0].provider.settings),
        caplog.text,
    ]  # type: ignore[attr-defined]
    assert_no_secrets("\n".join(shown), ["Planted-Pw-41ab", secret_server.admin.password])


# -- the CLI, end to end -----------------------------------------------------------------------


def _config(tmp_path: Path, server: DevServer, **tls: object) -> Path:
    import tomli_w

    settings = settings_for(server)
    table = {
        "url": settings.url,
        "port": settings.port,
        "username": server.admin.username,
        "password_env": "CREDCHAIN_TEST_VAULT_PW",
        **tls,
    }
    path = tmp_path / "credchain.toml"
    path.write_text(tomli_w.dumps({"chain": ["thycotic"], "providers": {"thycotic": table}}))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("mode", ["ca", "pin"])
def test_cli_resolve_json_with_ca_and_with_pinning(
    secret_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    secret_server.add_secret("created-by-test", {"username": "made", "password": "Made-Pw-9"})
    monkeypatch.setenv("CREDCHAIN_TEST_VAULT_PW", secret_server.admin.password)
    tls: dict[str, object] = (
        {"ca_bundle": secret_server.ca_cert}
        if mode == "ca"
        else {"verify_ssl": False, "fingerprint_sha256": secret_server.fingerprint_sha256}
    )
    config = _config(tmp_path, secret_server, **tls)
    result = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--asset-name", "created-by-test", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "username": "made",
        "password": base64.b64encode(b"Made-Pw-9").decode(),
    }


def test_privilege_field_missing_from_the_template_means_none_in_one_request(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(
        secret_server, mapping={"privilege_password_field": "Privilege Password"}
    )
    resolver.resolve(AssetQuery(asset_name=WEB))
    secret_server.reset_stats()
    credential = resolver.resolve(AssetQuery(asset_name="sw-01.corp.example.com"))
    assert credential.username == "netadmin"
    assert "privilegePassword" not in credential.to_safe_dict()
    assert secret_server.get_stats()["requests"] == {"GET api/v1/secrets": 1}
