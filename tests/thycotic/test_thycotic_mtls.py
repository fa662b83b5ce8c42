"""Mutual TLS to the vault: client_cert, client_key, client_key_password, against a dev server
that refuses, at the handshake, a client without a certificate its CA signed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cert_helpers import CERTIFICATE_TEMPLATE, cert_get, config_for
from click.testing import CliRunner
from pydantic import ValidationError
from thycotic_helpers import MakeResolver, settings_for

from credchain import AssetQuery
from credchain.cli import main
from credchain.config import settings_error
from credchain.devserver import ClientIdentity, DevServer, make_client_identity
from credchain.errors import ClientCertificateRefused, ConfigError, TLSVerificationError
from credchain.secretstore import SecretStore
from credchain_thycotic import ThycoticSettings
from credchain_thycotic.account import account_key
from credchain_thycotic.cert_cmd import CERT_FILE, KEY_FILE
from credchain_thycotic.client import SecretServerClient

ASSET = AssetQuery(asset_name="web-01.corp.example.com")
KEY_PASSWORD = "client-key-pass-8472"
WriteConfig = Callable[[dict[str, object]], Path]


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClientIdentity, ClientIdentity]:
    """A client identity the server trusts (key encrypted) and one from another CA."""
    base = tmp_path_factory.mktemp("client")
    trusted = make_client_identity(base / "trusted", password=KEY_PASSWORD)
    return trusted, make_client_identity(base / "other", name="stranger")


@pytest.fixture(scope="module")
def mtls_server(identities: tuple[ClientIdentity, ClientIdentity]) -> Iterator[DevServer]:
    with DevServer(require_client_cert=identities[0].ca_cert) as server:
        yield server


@pytest.fixture
def server(mtls_server: DevServer) -> DevServer:
    mtls_server.reset()
    return mtls_server


def _client_settings(identity: ClientIdentity, **more: object) -> dict[str, object]:
    return {"client_cert": str(identity.cert), "client_key": str(identity.key), **more}


def test_a_trusted_client_certificate_is_accepted(
    server: DevServer,
    identities: tuple[ClientIdentity, ClientIdentity],
    make_resolver: MakeResolver,
) -> None:
    settings = _client_settings(identities[0], client_key_password=KEY_PASSWORD)
    credential = make_resolver(server, **settings).resolve(ASSET)
    assert credential.username == "svc-scan"


def test_no_client_certificate_is_refused_at_the_handshake(
    server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(server)
    with pytest.raises(ClientCertificateRefused) as caught:
        resolver.resolve(ASSET)
    assert "requires a client certificate and credchain presented none" in str(caught.value)
    assert "set client_cert and client_key" in str(caught.value)
    assert isinstance(caught.value, TLSVerificationError)
    assert server.get_stats()["requests"] == {}  # refused before any HTTP


def test_a_certificate_from_another_ca_is_refused_naming_it(
    server: DevServer,
    identities: tuple[ClientIdentity, ClientIdentity],
    make_resolver: MakeResolver,
) -> None:
    resolver = make_resolver(server, **_client_settings(identities[1]))
    with pytest.raises(ClientCertificateRefused) as caught:
        resolver.resolve(ASSET)
    message = str(caught.value)
    assert f"does not accept the client certificate {identities[1].cert}" in message


def test_a_client_certificate_works_with_a_pinned_server_certificate(
    server: DevServer,
    identities: tuple[ClientIdentity, ClientIdentity],
    make_resolver: MakeResolver,
) -> None:
    settings = _client_settings(
        identities[0],
        client_key_password=KEY_PASSWORD,
        ca_bundle=None,
        verify_ssl=False,
        fingerprint_sha256=server.fingerprint_sha256,
    )
    assert make_resolver(server, **settings).resolve(ASSET).username == "svc-scan"


def test_the_pin_is_still_checked_with_a_client_certificate(
    server: DevServer,
    identities: tuple[ClientIdentity, ClientIdentity],
    make_resolver: MakeResolver,
) -> None:
    settings = _client_settings(
        identities[0],
        client_key_password=KEY_PASSWORD,
        ca_bundle=None,
        verify_ssl=False,
        fingerprint_sha256="AB" * 32,
    )
    with pytest.raises(TLSVerificationError, match="not the pinned AB:AB"):
        make_resolver(server, **settings).resolve(ASSET)


def test_entries_with_different_client_certificates_do_not_share_a_session(
    server: DevServer, identities: tuple[ClientIdentity, ClientIdentity]
) -> None:
    def key(**more: object) -> object:
        return account_key(settings_for(server, **more), clock=time.time, token_cache=None)

    trusted = _client_settings(identities[0], client_key_password=KEY_PASSWORD)
    assert key(**trusted) == key(**trusted)
    assert key(**trusted) != key()
    assert key(**trusted) != key(**_client_settings(identities[1]))


def test_the_key_password_is_in_no_repr(
    server: DevServer, identities: tuple[ClientIdentity, ClientIdentity]
) -> None:
    settings = settings_for(
        server, **_client_settings(identities[0], client_key_password=KEY_PASSWORD)
    )
    for text in (repr(settings), repr(settings.tls_policy), settings.tls_policy.describe()):
        assert KEY_PASSWORD not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_key_password": None}, "holds an encrypted key: set client_key_password"),
        ({"client_key_password": "wrong"}, "client_key_password does not decrypt the key"),
        (
            {"client_cert": "/nonexistent/client.pem"},
            "client_cert: /nonexistent/client.pem does not exist",
        ),
    ],
)
def test_an_unusable_client_certificate_is_a_config_error_naming_the_setting(
    server: DevServer,
    identities: tuple[ClientIdentity, ClientIdentity],
    change: dict[str, object],
    message: str,
) -> None:
    table = server.thycotic_table(
        **_client_settings(identities[0], client_key_password=KEY_PASSWORD)
    )
    table.update(change)
    table = {k: v for k, v in table.items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        ThycoticSettings.model_validate(table)
    error = str(settings_error(caught.value, key="providers.vault"))
    assert message in error
    assert "wrong" not in error and KEY_PASSWORD not in error


def test_a_key_of_another_certificate_is_refused(
    server: DevServer, identities: tuple[ClientIdentity, ClientIdentity]
) -> None:
    table = server.thycotic_table(
        client_cert=str(identities[1].cert),
        client_key=str(identities[0].key),
        client_key_password=KEY_PASSWORD,
    )
    with pytest.raises(ValueError, match="does not belong to the certificate"):
        ThycoticSettings.model_validate(table)


def test_client_key_needs_client_cert(server: DevServer) -> None:
    with pytest.raises(ValueError, match="client_key and client_key_password need client_cert"):
        ThycoticSettings.model_validate(server.thycotic_table(client_key="/k.pem"))


def test_relative_paths_are_read_from_the_home_and_the_password_decrypted(
    server: DevServer,
    identities: tuple[ClientIdentity, ClientIdentity],
    home: Path,
    write_config: WriteConfig,
    tmp_path: Path,
) -> None:
    (home / "tls").mkdir()
    (home / "tls" / "me.pem").write_bytes(identities[0].cert.read_bytes())
    (home / "tls" / "me.key").write_bytes(identities[0].key.read_bytes())
    secret = SecretStore(home).encrypt(KEY_PASSWORD)
    write_config(
        config_for(
            server,
            client_cert="tls/me.pem",
            client_key="tls/me.key",
            client_key_password=secret,
        )
    )
    result = CliRunner().invoke(main, ["resolve", "--json", "--asset-name", ASSET.asset_name or ""])
    assert result.exit_code == 0, result.output
    assert '"username": "svc-scan"' in result.stdout
    assert KEY_PASSWORD not in result.output


def test_a_missing_relative_client_cert_is_named_with_the_home(
    server: DevServer, home: Path, write_config: WriteConfig
) -> None:
    write_config(config_for(server, client_cert="tls/absent.pem"))
    result = CliRunner().invoke(main, ["resolve", "--json", "--asset-name", "x"])
    assert result.exit_code == 5  # misconfigured
    assert "client_cert" in result.stderr and "read relative to the credchain home" in result.stderr


def test_a_client_certificate_kept_in_another_secret_is_fetched_with_cert_get(
    secret_server: DevServer,
    server: DevServer,
    identities: tuple[ClientIdentity, ClientIdentity],
    home: Path,
    write_config: WriteConfig,
) -> None:
    # The bootstrap vault (no mutual TLS) keeps the client certificate as a secret.
    secret_id = secret_server.add_secret(
        "vault client certificate",
        {
            "certificate": identities[0].cert.read_text(),
            "private-key": identities[0].key.read_text(),
            "password": KEY_PASSWORD,
        },
        template_id=CERTIFICATE_TEMPLATE,
    )
    write_config(config_for(secret_server))
    fetched = cert_get(str(secret_id), "--out", str(home / "tls"))
    assert fetched.exit_code == 0, fetched.output
    # Then the mutual-TLS vault's entry presents the files it wrote.
    write_config(
        config_for(
            server,
            client_cert=f"tls/{CERT_FILE}",
            client_key=f"tls/{KEY_FILE}",
            client_key_password=SecretStore(home).encrypt(KEY_PASSWORD),
        )
    )
    result = CliRunner().invoke(main, ["resolve", "--json", "--asset-name", ASSET.asset_name or ""])
    assert result.exit_code == 0, result.output


def test_the_refusal_is_one_line_from_the_cli(server: DevServer, write_config: WriteConfig) -> None:
    write_config(config_for(server))
    result = CliRunner().invoke(main, ["resolve", "--json", "--asset-name", ASSET.asset_name or ""])
    assert result.exit_code == 5  # refused: TLS
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "requires a client certificate" in lines[0]


def test_a_client_built_on_the_settings_reads_secrets_over_mutual_tls(
    server: DevServer, identities: tuple[ClientIdentity, ClientIdentity]
) -> None:
    settings = settings_for(
        server, **_client_settings(identities[0], client_key_password=KEY_PASSWORD)
    )
    client = SecretServerClient(settings)
    try:
        assert client.get_secret(501).name == "demo-cert valid"
    finally:
        client.close()


def test_require_client_cert_needs_tls(identities: tuple[ClientIdentity, ClientIdentity]) -> None:
    with pytest.raises(ValueError, match="require_client_cert needs TLS"):
        DevServer(tls=False, require_client_cert=identities[0].ca_cert)


def test_require_client_cert_needs_a_pem_ca(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ValueError, match="holds no PEM CA certificate"):
        DevServer(require_client_cert=bad)


def test_config_error_type_for_a_relative_path(server: DevServer, home: Path) -> None:
    settings = settings_for(server, client_cert="tls/none.pem")
    with pytest.raises(ConfigError, match="key 'client_cert'"):
        settings.anchored(home)


def test_a_refused_client_certificate_gets_no_advice_about_the_servers_certificate() -> None:
    from credchain.cli.guidance import Case, classify

    assert classify(ClientCertificateRefused("refused")) is Case.OTHER
    assert classify(TLSVerificationError("untrusted")) is Case.TLS_UNTRUSTED
