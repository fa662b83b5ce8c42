"""Secrets at rest: encrypted with a key file the home keeps private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from credchain.errors import SecretStoreError
from credchain.secretstore import SecretStore


def test_round_trip(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    token = store.encrypt("p@ss")
    assert token.startswith("enc:") and "p@ss" not in token
    assert SecretStore(tmp_path).decrypt(token) == "p@ss"


def test_key_file_is_private(tmp_path: Path) -> None:
    SecretStore(tmp_path).encrypt("x")
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600


def test_missing_key_is_reported(tmp_path: Path) -> None:
    token = SecretStore(tmp_path / "a").encrypt("x")
    with pytest.raises(SecretStoreError, match="missing"):
        SecretStore(tmp_path / "b").decrypt(token)


def test_other_key_or_tampering_is_detected(tmp_path: Path) -> None:
    token = SecretStore(tmp_path / "a").encrypt("x")
    SecretStore(tmp_path / "b").encrypt("y")
    with pytest.raises(SecretStoreError, match="tampered"):
        SecretStore(tmp_path / "b").decrypt(token)


def test_value_without_prefix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretStoreError, match="enc:"):
        SecretStore(tmp_path).decrypt("plain")
