"""Fixtures for the thycotic plugin's own commands: a config in the home whose entry logs in to
the dev server over real TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w
from thycotic_cli_helpers import Configure

from credchain.devserver import DevServer


@pytest.fixture
def configure(secret_server: DevServer, home: Path) -> Configure:
    """``configure(name="thycotic", chain=None, **settings)``: write a config whose entry
    ``name`` logs in to the dev server (admin, CA-verified, unless ``settings`` say otherwise).
    Further entries come from ``extra={name: table}``."""

    def write(
        name: str = "thycotic",
        chain: list[str] | None = None,
        extra: dict[str, dict[str, Any]] | None = None,
        **settings: Any,
    ) -> Path:
        providers = {name: {"type": "thycotic", **secret_server.thycotic_table(**settings)}}
        providers.update(extra or {})
        document = {"chain": chain if chain is not None else [name], "providers": providers}
        path = home / "credchain.toml"
        path.write_bytes(tomli_w.dumps(document).encode())
        path.chmod(0o600)
        return path

    return write
