"""The door for commands: distributions add ``credchain`` sub-commands by entry point."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from credchain.cli import COMMAND_GROUP, main
from credchain.testing.distributions import write_distribution


@click.command()
@click.option("--name", default="world")
def hello(name: str) -> None:
    """Say hello (a plugin's command)."""
    click.echo(f"hello {name}")


NOT_A_COMMAND = "just a string"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "cli_plugin_example", sys.modules[__name__])
    return tmp_path


def install(site: Path, **commands: str) -> None:
    write_distribution(site, "credchain-hello", "1.0", commands, group=COMMAND_GROUP)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_distribution_adds_a_command(site: Path) -> None:
    install(site, hello="cli_plugin_example:hello")
    result = run("hello", "--name", "scanner")
    assert result.exit_code == 0, result.output
    assert result.output == "hello scanner\n"


def test_help_lists_plugin_commands(site: Path) -> None:
    install(site, hello="cli_plugin_example:hello")
    result = run("--help")
    assert "hello" in result.output and "Say hello" in result.output


def test_the_first_party_commands_come_through_the_same_door() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group=COMMAND_GROUP)}
    assert {"add", "configure-thycotic", "script"} <= names


def test_a_command_that_fails_to_import_names_its_distribution(site: Path) -> None:
    install(site, broken="no_such_module_anywhere:command")
    result = run("broken")
    assert result.exit_code == 1
    assert "command 'broken' (distribution credchain-hello) failed to load" in result.output
    assert "ModuleNotFoundError" in result.output
    assert "Traceback" not in result.output


def test_a_target_that_is_not_a_click_command_is_refused(site: Path) -> None:
    install(site, odd="cli_plugin_example:NOT_A_COMMAND")
    result = run("odd")
    assert result.exit_code == 1
    assert "is str, not a click command" in result.output


def test_help_marks_a_broken_command_and_still_lists_the_others(site: Path) -> None:
    install(site, broken="no_such_module_anywhere:command", hello="cli_plugin_example:hello")
    result = run("--help")
    assert result.exit_code == 0, result.output
    assert "BROKEN" in result.output and "Say hello" in result.output


def test_a_plugin_cannot_take_a_core_commands_name(site: Path) -> None:
    install(site, resolve="cli_plugin_example:hello")
    result = run("resolve", "--help")
    assert result.exit_code == 0
    assert "hello" not in result.output
    assert "Resolve one asset" in result.output
