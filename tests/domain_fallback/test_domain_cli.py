"""``credchain test ENTRY --asset-name``: the seed's Test Settings button, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from domain_helpers import ALL_SECRETS, DATASET, connection_table

from credchain.cli import main
from credchain.devserver import DevServer
from credchain.testing.secrets import assert_no_secrets


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(data=DATASET) as running:
        yield running


def test_test_command_lists_candidates_and_no_password(server: DevServer, tmp_path: Path) -> None:
    config = tmp_path / "credchain.toml"
    document = {
        "chain": ["windows"],
        "providers": {
            "primary": {"type": "thycotic", **connection_table(server)},
            "windows": {
                "type": "domain-fallback",
                "connection": "primary",
                "domains": ["CORP", "LAB"],
                "username": "svc-scan",
                "fallback_to_local": True,
            },
        },
    }
    config.write_text(tomli_w.dumps(document))
    config.chmod(0o600)
    result = CliRunner().invoke(
        main,
        ["test", "windows", "--config", str(config), "--asset-name", "web-01.corp.example.com"],
    )
    assert result.exit_code == 0, result.output
    for expected in ("machine (web-01)", "102", "web-01 svc-scan", "local (svc-scan)", "205"):
        assert expected in result.stdout
    assert_no_secrets(result.output, [*ALL_SECRETS, server.admin.password])
