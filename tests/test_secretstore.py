"""Secrets at rest: encrypted with a key file the home keeps private."""

from __future__ import annotations

import stat
import subprocess
import sys
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


# Each child imports, says "ready", waits for "go" on stdin, encrypts its value and prints it.
_RACER = """
import sys
from pathlib import Path
from credchain.secretstore import SecretStore
store = SecretStore(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
print(store.encrypt(sys.argv[2]), flush=True)
"""


@pytest.mark.timeout(60)
def test_concurrent_first_use_of_a_home_agrees_on_one_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(home), f"value-{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(12)
    ]
    try:
        for racer in racers:  # a barrier: all are ready before any is told to go
            assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        tokens = [racer.communicate(timeout=30)[0].strip() for racer in racers]
    finally:
        for racer in racers:
            racer.kill()
            racer.wait()
    assert all(racer.returncode == 0 for racer in racers)
    store = SecretStore(home)
    assert [store.decrypt(token) for token in tokens] == [f"value-{n}" for n in range(12)]
