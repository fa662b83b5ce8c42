"""TLS: CA bundles, SHA-256 pinning (no unverified mode), and mismatches that say what they saw."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from thycotic_helpers import MakeResolver

from credchain import AssetQuery
from credchain.devserver import DevServer
from credchain.errors import ConfigError, TLSVerificationError
from credchain.tls import normalize_fingerprint
from credchain_thycotic.settings import ThycoticSettings

WEB = AssetQuery(asset_name="web-01.corp.example.com")


@pytest.mark.parametrize(
    "shape", [str, str.lower, lambda f: f.replace(":", ""), lambda f: f.replace(":", "").lower()]
)
def test_pinning_accepts_any_fingerprint_spelling(
    secret_server: DevServer, make_resolver: MakeResolver, shape: object
) -> None:
    assert secret_server.fingerprint_sha256 is not None
    pin = shape(secret_server.fingerprint_sha256)  # type: ignore[operator]
    resolver = make_resolver(
        secret_server, ca_bundle=None, verify_ssl=False, fingerprint_sha256=pin
    )
    assert resolver.resolve(WEB).username == "svc-scan"


def test_pin_mismatch_shows_expected_and_presented(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    wrong = "AB" * 32
    resolver = make_resolver(
        secret_server, ca_bundle=None, verify_ssl=False, fingerprint_sha256=wrong
    )
    with pytest.raises(TLSVerificationError) as caught:
        resolver.resolve(WEB)
    assert caught.value.expected == wrong.lower()
    assert caught.value.presented == normalize_fingerprint(secret_server.fingerprint_sha256 or "")
    assert secret_server.fingerprint_sha256 in str(caught.value)
    assert ":".join(["AB"] * 32) in str(caught.value)


def test_system_store_refuses_the_dev_ca_and_suggests_pinning(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(secret_server, ca_bundle=None)
    with pytest.raises(TLSVerificationError, match="verify_ssl = false") as caught:
        resolver.resolve(WEB)
    assert secret_server.fingerprint_sha256 in str(caught.value)


def test_certificate_swapped_mid_run_breaks_the_pin(
    secret_server_factory: object, make_resolver: MakeResolver
) -> None:
    server: DevServer = secret_server_factory()  # type: ignore[operator]
    resolver = make_resolver(
        server, ca_bundle=None, verify_ssl=False, fingerprint_sha256=server.fingerprint_sha256
    )
    assert resolver.resolve(WEB).username == "svc-scan"
    new = server.swap_certificate()
    resolver.chain[0].provider.client.account.http.session.close()  # type: ignore[attr-defined]
    with pytest.raises(TLSVerificationError) as caught:
        resolver.resolve(WEB)
    assert caught.value.presented == normalize_fingerprint(new)


def test_certificate_swapped_mid_run_breaks_ca_verification(
    secret_server_factory: object, make_resolver: MakeResolver
) -> None:
    server: DevServer = secret_server_factory()  # type: ignore[operator]
    resolver = make_resolver(server)
    assert resolver.resolve(WEB).username == "svc-scan"
    server.swap_certificate()
    resolver.chain[0].provider.client.account.http.session.close()  # type: ignore[attr-defined]
    with pytest.raises(TLSVerificationError):
        resolver.resolve(WEB)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"verify_ssl": False}, "needs fingerprint_sha256"),
        ({"verify_ssl": False, "fingerprint_sha256": "12:34"}, "64 hex digits"),
        ({"fingerprint_sha256": "ab" * 32}, "only with verify_ssl = false"),
        ({"verify_ssl": False, "fingerprint_sha256": "ab" * 32, "ca_bundle": "/x"}, "ca_bundle"),
        ({"url": "ftp://vault"}, "https URL"),
        ({"url": "https://vault:8443", "port": 443}, "port"),
        ({"grant": "client_credentials"}, "client_id and client_secret"),
        ({"username": None}, "username and password"),
        ({"mapping": {"safe_field": "hostname"}}, "asset_name"),
    ],
)
def test_invalid_settings_are_refused(settings: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"url": "https://vault", "username": "u", "password": "p"}
    values.update(settings)
    with pytest.raises(ValidationError, match=message):
        ThycoticSettings.model_validate({k: v for k, v in values.items() if v is not None})


def test_url_port_wins_when_port_is_not_given() -> None:
    settings = ThycoticSettings.model_validate(
        {"url": "https://vault:8443/", "username": "u", "password": "p"}
    )
    assert settings.base_url == "https://vault:8443"


def test_plain_http_is_refused_unless_allowed(tmp_path: object) -> None:
    from credchain.http import VaultHttp
    from credchain.tls import TLSPolicy

    with pytest.raises(ConfigError, match="plain http"):
        VaultHttp("http://vault:80", TLSPolicy())


def test_plain_http_dev_server_when_allowed(
    secret_server_factory: object, make_resolver: MakeResolver
) -> None:
    server: DevServer = secret_server_factory(tls=False)  # type: ignore[operator]
    resolver = make_resolver(server, url="http://127.0.0.1", ca_bundle=None, allow_http=True)
    assert resolver.resolve(WEB).username == "svc-scan"
