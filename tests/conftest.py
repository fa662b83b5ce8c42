"""Shared fixtures: an isolated credchain home, config writing, and a scratch site directory."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tomli_w


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty credchain home, set as CREDCHAIN_HOME."""
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("CREDCHAIN_HOME", str(path))
    monkeypatch.delenv("CREDCHAIN_CONFIG", raising=False)
    return path


@pytest.fixture
def write_config(home: Path) -> Callable[[dict[str, object]], Path]:
    """Write a config document as ``credchain.toml`` in the home (mode 0600)."""

    def write(document: dict[str, object]) -> Path:
        path = home / "credchain.toml"
        path.write_bytes(tomli_w.dumps(document).encode())
        path.chmod(0o600)
        return path

    return write


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path where tests install fake distributions."""
    path = tmp_path / "site"
    path.mkdir()
    sys.path.insert(0, str(path))
    try:
        yield path
    finally:
        sys.path.remove(str(path))
