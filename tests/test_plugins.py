"""Loading providers by entry point: exactly the chain's names, in order, with clear failures."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from credchain.cli import main
from credchain.config import EntryConfig
from credchain.errors import ConfigError, PluginLoadError
from credchain.plugins import build_provider, installed_providers, load_provider_classes
from credchain.provider import ProviderContext
from credchain.testing.distributions import write_distribution
from credchain.testing.providers import NotHereProvider, StaticProvider

PROVIDERS = "credchain.testing.providers"


@pytest.fixture
def installed(site: Path) -> Path:
    write_distribution(
        site,
        "credchain-test-providers",
        "1.2.3",
        {"nothere": f"{PROVIDERS}:NotHereProvider", "static": f"{PROVIDERS}:StaticProvider"},
    )
    return site


@pytest.fixture
def broken(site: Path) -> Path:
    write_distribution(site, "broken-provider", "0.9", {"broken": "credchain_no_such_module:P"})
    return site


def test_loads_exactly_the_named_providers_in_chain_order(installed: Path) -> None:
    loaded = load_provider_classes(["static", "nothere"])
    assert list(loaded.classes) == ["static", "nothere"]
    assert loaded.classes["static"] is StaticProvider
    assert loaded.classes["nothere"] is NotHereProvider
    assert list(load_provider_classes(["nothere", "static"]).classes) == ["nothere", "static"]


def test_unknown_name_is_named_and_installed_ones_listed(installed: Path) -> None:
    with pytest.raises(PluginLoadError) as caught:
        load_provider_classes(["nothere", "vaultx"])
    message = str(caught.value)
    assert "'vaultx'" in message
    assert "nothere" in message and "static" in message
    assert caught.value.name == "vaultx"


def test_broken_provider_is_reported_with_distribution_and_exception(broken: Path) -> None:
    with pytest.raises(PluginLoadError) as caught:
        load_provider_classes(["broken"])
    assert caught.value.distribution == "broken-provider"
    assert "broken-provider" in str(caught.value)
    assert "ModuleNotFoundError" in str(caught.value)


def test_tolerant_mode_skips_and_reports(
    broken: Path, installed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        loaded = load_provider_classes(["broken", "static", "missing"], tolerant=True)
    assert list(loaded.classes) == ["static"]
    assert [failure.name for failure in loaded.failures] == ["broken", "missing"]
    assert "broken" in caplog.text


def test_installed_providers_describes_each(installed: Path, broken: Path) -> None:
    infos = {info.name: info for info in installed_providers()}
    static = infos["static"]
    assert (static.distribution, static.version) == ("credchain-test-providers", "1.2.3")
    assert static.description.startswith("Credentials from a table in memory")
    assert static.error is None
    assert infos["broken"].error is not None and "ModuleNotFoundError" in infos["broken"].error


def test_providers_command_json(installed: Path) -> None:
    result = CliRunner().invoke(main, ["providers", "--json"])
    assert result.exit_code == 0
    listed = {item["name"]: item for item in json.loads(result.output)}
    assert listed["nothere"]["distribution"] == "credchain-test-providers"
    assert listed["nothere"]["version"] == "1.2.3"
    assert listed["nothere"]["description"]


def test_providers_command_reports_broken_entry_point_without_traceback(broken: Path) -> None:
    result = CliRunner().invoke(main, ["providers"])
    assert result.exit_code == 0
    assert "BROKEN" in result.stdout and "ModuleNotFoundError" in result.stdout
    assert "failed to load" in result.stderr
    assert "Traceback" not in result.output


def test_settings_are_validated_with_errors_naming_the_key(tmp_path: Path) -> None:
    entry = EntryConfig(name="lab", type="static", settings={"credentials": {"h": 3}})
    with pytest.raises(ConfigError, match=r"'providers\.lab\.credentials\.h'"):
        build_provider(
            entry, StaticProvider, ProviderContext("lab", tmp_path), config_path="c.toml"
        )


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    entry = EntryConfig(name="lab", type="static", settings={"credentails": {}})
    with pytest.raises(ConfigError) as caught:
        build_provider(entry, StaticProvider, ProviderContext("lab", tmp_path))
    assert "unknown setting" in str(caught.value)
    assert caught.value.key == "providers.lab.credentails"
