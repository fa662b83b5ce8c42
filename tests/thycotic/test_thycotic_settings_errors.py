"""Settings that cannot work are a ConfigError naming the key, never a "provider bug".

The CA bundle (missing, not PEM, relative paths read from the home only), timeouts (finite, in
range), the URL's length, NUL bytes in paths, and a server whose TLS versions credchain refuses.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loopback_tls import loopback_tls
from pydantic import ValidationError

from credchain import AssetQuery, Resolver
from credchain.config import settings_error
from credchain.devserver import DevServer
from credchain.errors import ConfigError, TLSVerificationError
from credchain.http import HttpSettings, VaultHttp
from credchain.tls import TLSPolicy
from credchain_thycotic import ThycoticSettings

WEB = AssetQuery(asset_name="web-01.corp.example.com")
BASE: dict[str, Any] = {"url": "https://vault.example.com", "username": "u", "password": "p"}
WriteConfig = Callable[[dict[str, object]], Path]


def config_error(**settings: Any) -> ConfigError | None:
    """The ConfigError an admin sees for a ``[providers.thycotic]`` table, or ``None``."""
    try:
        ThycoticSettings.model_validate({**BASE, **settings})
    except ValidationError as exc:
        return settings_error(exc, key="providers.thycotic", kind="thycotic")
    return None


def one_entry(server: DevServer, write_config: WriteConfig, **settings: Any) -> Path:
    table = server.thycotic_table(token_cache=False, **settings)
    return write_config({"chain": ["thycotic"], "providers": {"thycotic": table}})


# -- the CA bundle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: None, "does not exist"),
        (lambda path: path.mkdir(), "not a regular file"),
        (lambda path: path.write_text("not a certificate\n"), "no PEM certificate"),
    ],
    ids=["missing", "directory", "not-pem"],
)
def test_an_unusable_absolute_ca_bundle_names_the_key(
    tmp_path: Path, make: Callable[[Path], None], problem: str
) -> None:
    path = tmp_path / "ca.pem"
    make(path)
    error = config_error(ca_bundle=str(path))
    assert error is not None and error.key == "providers.thycotic.ca_bundle"
    assert problem in str(error)


def test_a_relative_ca_bundle_is_read_from_the_home(
    secret_server: DevServer,
    write_config: WriteConfig,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copy(str(secret_server.ca_cert), home / "vault-ca.pem")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    resolver = Resolver.from_config(
        one_entry(secret_server, write_config, ca_bundle="vault-ca.pem")
    )
    try:
        assert resolver.resolve(WEB).username == "svc-scan"
    finally:
        resolver.close()


def test_a_relative_ca_bundle_is_never_read_from_the_working_directory(
    secret_server: DevServer,
    write_config: WriteConfig,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    shutil.copy(str(secret_server.ca_cert), cwd / "vault-ca.pem")
    monkeypatch.chdir(cwd)
    config = one_entry(secret_server, write_config, ca_bundle="vault-ca.pem")
    with pytest.raises(ConfigError, match="ca_bundle") as caught:
        Resolver.from_config(config)
    assert str(home / "vault-ca.pem") in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_vault_http_refuses_a_relative_ca_bundle() -> None:
    with pytest.raises(ConfigError, match="relative") as caught:
        VaultHttp("https://vault.example.com", TLSPolicy(ca_bundle="ca.pem"))
    assert caught.value.key == "ca_bundle"


def test_vault_http_refuses_a_ca_bundle_that_is_not_pem(tmp_path: Path) -> None:
    path = tmp_path / "ca.der"
    path.write_bytes(b"\x30\x82\x01\x0a")
    with pytest.raises(ConfigError, match="no PEM certificate") as caught:
        VaultHttp("https://vault.example.com", TLSPolicy(ca_bundle=str(path)))
    assert caught.value.key == "ca_bundle"


# -- timeouts --------------------------------------------------------------------------------

SECONDS = {"connect_timeout": (False, 300), "read_timeout": (False, 300), "deadline": (False, 300)}
SECONDS["retry_after_max"] = (True, 300)  # zero allowed: never wait for a Retry-After


@given(key=st.sampled_from(sorted(SECONDS)), value=st.floats())
def test_only_finite_seconds_in_range_are_accepted(key: str, value: float) -> None:
    zero_ok, most = SECONDS[key]
    in_range = math.isfinite(value) and (value >= 0 if zero_ok else value > 0) and value <= most
    error = config_error(**{key: value})
    assert (error is None) == in_range
    if error is not None:
        assert error.key == f"providers.thycotic.{key}"


@given(key=st.sampled_from(sorted(SECONDS)), value=st.floats())
def test_http_settings_take_only_finite_seconds_in_range(key: str, value: float) -> None:
    zero_ok, most = SECONDS[key]
    in_range = math.isfinite(value) and (value >= 0 if zero_ok else value > 0) and value <= most
    if in_range:
        assert getattr(HttpSettings(**{key: value}), key) == value
    else:
        with pytest.raises(ConfigError) as caught:
            HttpSettings(**{key: value})
        assert caught.value.key == key


# -- the URL and the paths -------------------------------------------------------------------


def test_a_url_over_2048_characters_is_refused_without_being_repeated() -> None:
    error = config_error(url="https://vault.example.com/" + "a" * 100_000)
    assert error is not None and error.key == "providers.thycotic.url"
    assert "2048" in str(error) and "a" * 50 not in str(error)


def test_vault_http_refuses_an_origin_over_2048_characters() -> None:
    with pytest.raises(ConfigError, match="2048"):
        VaultHttp("https://" + "a" * 3000 + ".example.com", TLSPolicy())


@given(
    key=st.sampled_from(["auth_path", "secrets_path", "ca_bundle", "mapping_file"]),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_a_nul_byte_in_a_path_is_refused_with_the_key_named(
    key: str, before: str, after: str
) -> None:
    error = config_error(**{key: f"{before}\x00{after}"})
    assert error is not None and error.key == f"providers.thycotic.{key}"
    assert "NUL" in str(error)


# -- TLS versions ----------------------------------------------------------------------------


def old_tls_only(tmp_path: Path) -> Any:
    """A server that offers nothing newer than TLS 1.1 (credchain requires 1.2 or later)."""
    return loopback_tls(tmp_path, lambda tls: None, maximum_version=ssl.TLSVersion.TLSv1_1)


def test_a_pinned_server_with_only_old_tls_versions_says_tls_version(tmp_path: Path) -> None:
    with old_tls_only(tmp_path) as (origin, identity):
        http = VaultHttp(origin, TLSPolicy(fingerprint_sha256=identity.fingerprint_sha256))
        with pytest.raises(TLSVerificationError, match="TLS version") as caught:
            http.request("GET", f"{origin}/SecretServer/api/v1/healthcheck")
        http.close()
    assert "fingerprint" not in str(caught.value)


def test_a_verified_server_with_only_old_tls_versions_says_tls_version(tmp_path: Path) -> None:
    with old_tls_only(tmp_path) as (origin, identity):
        http = VaultHttp(origin, TLSPolicy(ca_bundle=str(identity.ca_cert)))
        with pytest.raises(TLSVerificationError, match="TLS version") as caught:
            http.request("GET", f"{origin}/SecretServer/api/v1/healthcheck")
        http.close()
    assert "fingerprint" not in str(caught.value)


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    """A port where a plain HTTP server answers anything at once with 400, as web servers do."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                raw, _ = listener.accept()
                with raw:
                    raw.recv(4096)
                    raw.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def test_a_plain_http_port_says_it_does_not_speak_tls(plain_http_port: int) -> None:
    origin = f"https://127.0.0.1:{plain_http_port}"
    http = VaultHttp(origin, TLSPolicy(fingerprint_sha256="ab" * 32))
    with pytest.raises(TLSVerificationError, match="does not speak TLS") as caught:
        http.request("GET", f"{origin}/SecretServer/api/v1/healthcheck")
    http.close()
    assert "fingerprint" not in str(caught.value)


def test_a_url_with_a_control_character_is_refused() -> None:
    error = config_error(url="https://vault.example.com/\x1b[2J")
    assert error is not None and error.key == "providers.thycotic.url"
    assert "control characters" in str(error)


def test_a_url_with_surrounding_whitespace_is_still_taken() -> None:
    assert config_error(url=" https://vault.example.com\n") is None
