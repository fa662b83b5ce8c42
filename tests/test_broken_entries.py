"""One broken entry with ``on_error = "next"`` is reported and skipped; others fail loudly.

Broken means: its provider fails to import (or is not installed), its ``_env`` variable is
unset, or its settings do not validate. ``resolve``, ``test`` and the agent all build the chain
through ``Resolver.from_config``, so they see the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from credchain import AssetQuery, Resolver
from credchain.cli import main
from credchain.config import load_config
from credchain.errors import ConfigError, PluginLoadError
from credchain.testing.distributions import write_distribution

WriteConfig = Callable[[dict[str, object]], Path]
WEB = AssetQuery(asset_name="web-01")
GOOD = {
    "type": "static",
    "credentials": {"web-01": {"username": "svc", "password": "lab-pw"}},
}
BROKEN: dict[str, dict[str, object]] = {
    "import": {"type": "broken", "on_error": "next"},
    "missing": {"type": "vaultx", "on_error": "next"},
    "env": {"type": "static", "on_error": "next", "credentials_env": "CREDCHAIN_TEST_UNSET"},
    "settings": {"type": "static", "on_error": "next", "no_such_setting": 1},
}


@pytest.fixture
def providers(site: Path) -> Path:
    write_distribution(
        site,
        "credchain-broken-entries",
        "1.0",
        {
            "static": "credchain.testing.providers:StaticProvider",
            "broken": "credchain_no_such_module:Provider",
        },
    )
    return site


def chain_with(broken: dict[str, object]) -> dict[str, object]:
    return {"chain": ["dr", "lab"], "providers": {"dr": broken, "lab": GOOD}}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_next_entry_is_skipped_and_the_rest_resolves(
    kind: str, providers: Path, write_config: WriteConfig, caplog: pytest.LogCaptureFixture
) -> None:
    write_config(chain_with(BROKEN[kind]))
    with caplog.at_level(logging.WARNING), Resolver.from_config() as resolver:
        assert [entry.name for entry in resolver.chain] == ["lab"]
        assert [skipped.name for skipped in resolver.skipped] == ["dr"]
        assert resolver.resolve(WEB).source == "lab"
    assert "entry 'dr' skipped" in caplog.text


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_entry_with_the_default_policy_still_fails_loudly(
    kind: str, providers: Path, write_config: WriteConfig
) -> None:
    broken = {key: value for key, value in BROKEN[kind].items() if key != "on_error"}
    write_config(chain_with(broken))
    with pytest.raises((ConfigError, PluginLoadError)):
        Resolver.from_config()


def test_an_unset_env_variable_is_carried_by_the_entry_not_raised_by_the_load(
    providers: Path, write_config: WriteConfig
) -> None:
    write_config(chain_with(BROKEN["env"]))
    entry = load_config().entry("dr")
    assert isinstance(entry.problem, ConfigError)
    assert "CREDCHAIN_TEST_UNSET" in str(entry.problem) and "providers.dr" in str(entry.problem)


def test_the_skip_names_the_entry_and_its_error(providers: Path, write_config: WriteConfig) -> None:
    write_config(chain_with(BROKEN["import"]))
    with Resolver.from_config() as resolver:
        (skipped,) = resolver.skipped
    assert isinstance(skipped.error, PluginLoadError)
    assert str(skipped).startswith("entry 'dr' skipped (on_error = \"next\"): provider 'broken'")
    assert [error.name for error in resolver.load_failures] == ["broken"]


def test_resolve_json_answers_from_the_rest_with_one_clean_stdout(
    providers: Path, write_config: WriteConfig
) -> None:
    write_config(chain_with(BROKEN["env"]))
    result = CliRunner().invoke(main, ["resolve", "--json", "--asset-name", "web-01"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["username"] == "svc"


def test_credchain_test_reports_the_broken_entry_and_still_tries_the_rest(
    providers: Path, write_config: WriteConfig
) -> None:
    write_config(chain_with(BROKEN["env"]))
    result = CliRunner().invoke(main, ["test", "--asset-name", "web-01"])
    assert result.exit_code == 1  # a check failed, even though the asset was found
    assert "CREDCHAIN_TEST_UNSET" in result.stderr and "skipped" in result.stderr
    assert "lab" in result.stdout and "********" in result.stdout  # the credential, masked


def test_the_agent_builds_the_same_chain(providers: Path, write_config: WriteConfig) -> None:
    from credchain.agent.service import load_generation

    path = write_config(chain_with(BROKEN["env"]))
    generation = load_generation(path, {}, {"CREDCHAIN_HOME": str(path.parent)})
    try:
        assert [entry.name for entry in generation.resolver.chain] == ["lab"]
        assert [skipped.name for skipped in generation.resolver.skipped] == ["dr"]
    finally:
        generation.resolver.close()
