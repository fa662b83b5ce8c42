"""``--debug`` works after the command as well as before it: core, group and plugin commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from credchain.cli import COMMAND_GROUP, main
from credchain.errors import ConfigError, ProviderError
from credchain.testing.distributions import write_distribution


@click.group()
def lab() -> None:
    """A plugin's group of commands."""


@lab.command()
def fail() -> None:
    """Fail with a credchain error."""
    raise ProviderError("the lab is closed")


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "cli_debug_example", sys.modules[__name__])
    write_distribution(
        tmp_path, "credchain-lab", "1.0", {"lab": "cli_debug_example:lab"}, group=COMMAND_GROUP
    )


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    "args",
    [
        ["--debug", "resolve", "--json", "--asset-name", "web-01"],
        ["resolve", "--debug", "--json", "--asset-name", "web-01"],
        ["resolve", "--json", "--asset-name", "web-01", "--debug"],
    ],
    ids=["before", "after", "last"],
)
def test_debug_anywhere_shows_the_traceback_of_a_core_command(home: Path, args: list[str]) -> None:
    result = run(*args)  # no configuration: a ConfigError
    assert isinstance(result.exception, ConfigError)  # re-raised for its traceback


def test_without_debug_it_is_one_line(home: Path) -> None:
    result = run("resolve", "--json", "--asset-name", "web-01")
    assert result.exit_code == 5 and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["--debug", "lab", "fail"], ["lab", "fail", "--debug"]])
def test_debug_anywhere_in_a_plugin_group(plugin: None, args: list[str]) -> None:
    assert isinstance(run(*args).exception, ProviderError)
    result = run("lab", "fail")
    assert result.exit_code == 1 and "the lab is closed" in result.stderr


def test_help_of_a_command_lists_debug(home: Path) -> None:
    assert "--debug" in run("status", "--help").output
