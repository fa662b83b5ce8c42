"""A token-cache problem never fails a lookup: it is a cache miss, logged by file name only.

Each problem is made for real on disk (a directory or a FIFO where the entry should be, a key
file that is garbage or a directory, a read-only cache directory, ...) and a lookup goes through
a resolver with a thycotic entry against the dev server.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.cache import TokenCache, token_identity
from credchain.devserver import DevServer
from credchain.home import TOKEN_CACHE_DIR
from credchain.provider import ProviderContext
from credchain.secretstore import SecretStore
from credchain.testing.secrets import assert_no_secrets
from credchain.tokens import AccessToken
from credchain_thycotic import ThycoticProvider, ThycoticSettings

WEB = AssetQuery(asset_name="web-01.corp.example.com")
IDENTITY = token_identity("https://v/oauth2/token", "password", "svc")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def resolver_for(server: DevServer, home: Path) -> Iterator[Resolver]:
    settings = ThycoticSettings.model_validate(server.thycotic_table(retries=1, read_timeout=5.0))
    provider = ThycoticProvider(settings, ProviderContext("thycotic", home))
    resolver = Resolver([ChainEntry("thycotic", provider, type="thycotic")])
    try:
        yield resolver
    finally:
        resolver.close()


def resolve(server: DevServer, home: Path) -> str:
    """One lookup in a new resolver (a new run); the credential's username."""
    with resolver_for(server, home) as resolver:
        return resolver.resolve(WEB).username


def entry_of(server: DevServer, home: Path) -> Path:
    """The path of the cache entry of ``server``'s admin (run one lookup to learn it)."""
    with resolver_for(server, home) as resolver:
        resolver.resolve(WEB)
        provider = resolver.chain[0].provider
        assert isinstance(provider, ThycoticProvider)
        identity = provider.client.account.identity
    return home / TOKEN_CACHE_DIR / f"{identity}.token"


def grants(server: DevServer) -> int:
    return int(server.get_stats()["grants"]["password"])


@contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """``directory`` made read-only for real: mode 0500, or (as root) the immutable attribute."""
    if os.geteuid() != 0:
        directory.chmod(0o500)
        try:
            yield
        finally:
            directory.chmod(0o700)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(directory)], check=False).returncode:
        pytest.skip("root needs chattr +i (CAP_LINUX_IMMUTABLE) to make a read-only directory")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(directory)], check=True)


def test_a_directory_where_the_entry_should_be(
    secret_server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = entry_of(secret_server, tmp_path)
    path.unlink()
    path.mkdir()
    (path / "keep").write_text("x")
    caplog.set_level(logging.WARNING)
    assert resolve(secret_server, tmp_path) == "svc-scan"
    secret_server.revoke_tokens()  # the refused token is discarded: that cannot delete it either
    assert resolve(secret_server, tmp_path) == "svc-scan"
    assert path.is_dir()  # never deleted: credchain did not write it
    assert path.name in caplog.text


@pytest.mark.timeout(30)
def test_a_fifo_where_the_entry_should_be_is_a_miss_not_a_hang(
    secret_server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = entry_of(secret_server, tmp_path)
    path.unlink()
    os.mkfifo(path, 0o600)
    assert resolve(secret_server, tmp_path) == "svc-scan"
    assert f"discarded the token cache entry {path.name}" in caplog.text


@pytest.mark.timeout(30)
def test_a_link_to_a_device_where_the_entry_should_be(
    secret_server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = entry_of(secret_server, tmp_path)
    path.unlink()
    path.symlink_to("/dev/zero")
    assert resolve(secret_server, tmp_path) == "svc-scan"
    assert f"discarded the token cache entry {path.name}" in caplog.text
    assert Path("/dev/zero").exists()


def test_an_oversized_entry_is_a_miss(
    secret_server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = entry_of(secret_server, tmp_path)
    path.write_bytes(b"enc:" + b"A" * (4 * 1024 * 1024))
    assert resolve(secret_server, tmp_path) == "svc-scan"
    assert grants(secret_server) == 2
    assert f"discarded the token cache entry {path.name}" in caplog.text


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 0000")
def test_an_unreadable_entry_is_a_miss(
    secret_server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = entry_of(secret_server, tmp_path)
    path.chmod(0)
    assert resolve(secret_server, tmp_path) == "svc-scan"
    assert f"discarded the token cache entry {path.name}" in caplog.text


@pytest.mark.parametrize("damage", ["garbage", "directory", "empty"])
def test_a_key_file_that_cannot_be_used(
    secret_server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    path = entry_of(secret_server, tmp_path)
    sealed = path.read_text()
    key = tmp_path / "secret.key"
    key.unlink()
    if damage == "garbage":
        key.write_bytes(b"\xffnot a fernet key\x00")
    elif damage == "directory":
        key.mkdir()
    else:
        key.write_bytes(b"")
    caplog.set_level(logging.WARNING)
    assert resolve(secret_server, tmp_path) == "svc-scan"
    assert resolve(secret_server, tmp_path) == "svc-scan"  # and the entry cannot be written
    assert path.name in caplog.text
    assert_no_secrets(caplog.text, [secret_server.admin.password, sealed])


@pytest.mark.parametrize("state", ["expired", "tampered", "refused"])
def test_a_read_only_cache_directory(
    secret_server: DevServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    state: str,
) -> None:
    path = entry_of(secret_server, tmp_path)
    if state == "expired":
        # an entry that expired long ago: reading it deletes it, which fails
        TokenCache(tmp_path).put(path.stem, AccessToken("stale", expires_at=1.0, renew_at=0.5))
    elif state == "tampered":
        path.write_text(path.read_text()[:-8] + "AAAAAAAA")
    caplog.set_level(logging.WARNING)
    with read_only(path.parent):
        if state == "refused":
            secret_server.revoke_tokens()  # the refused token's entry cannot be deleted
        assert resolve(secret_server, tmp_path) == "svc-scan"
        assert resolve(secret_server, tmp_path) == "svc-scan"
    assert path.name in caplog.text


def test_discard_that_cannot_delete_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = TokenCache(tmp_path)
    path = tmp_path / TOKEN_CACHE_DIR / f"{IDENTITY}.token"
    path.mkdir(parents=True)
    cache.discard(IDENTITY)
    assert f"cannot delete the token cache entry {path.name}" in caplog.text


@pytest.mark.parametrize("expiry", ["inf", "nan", "-inf"])
def test_an_entry_with_a_non_finite_expiry_is_discarded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, expiry: str
) -> None:
    cache = TokenCache(tmp_path)
    cache.put(IDENTITY, AccessToken("tok", expires_at=float(expiry), renew_at=float(expiry)))
    assert cache.get(IDENTITY) is None
    assert "malformed" in caplog.text
    assert list((tmp_path / TOKEN_CACHE_DIR).glob("*.token")) == []


@pytest.mark.parametrize("value", ["tok\r\nX-Injected: 1", "tok en", "\u00e9t\u00e9", "\ud800", ""])
def test_an_entry_whose_token_is_not_a_header_value_is_discarded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    cache = TokenCache(tmp_path)
    cache.put(IDENTITY, AccessToken(value, expires_at=9e12, renew_at=9e12))
    assert cache.get(IDENTITY) is None
    assert "malformed" in caplog.text


def test_an_entry_nested_too_deeply_is_discarded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = TokenCache(tmp_path)
    sealed = SecretStore(tmp_path).encrypt("[" * 20_000 + "]" * 20_000)
    path = tmp_path / TOKEN_CACHE_DIR / f"{IDENTITY}.token"
    path.parent.mkdir(parents=True)
    path.write_text(sealed)
    assert cache.get(IDENTITY) is None
    assert f"discarded the token cache entry {path.name}: malformed" in caplog.text


def test_a_file_where_the_cache_directory_should_be(
    secret_server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / TOKEN_CACHE_DIR
    directory.parent.mkdir(parents=True)
    directory.write_text("not a directory")
    assert resolve(secret_server, tmp_path) == "svc-scan"
    assert resolve(secret_server, tmp_path) == "svc-scan"
    assert "cannot write the token cache" in caplog.text
    assert directory.read_text() == "not a directory"
