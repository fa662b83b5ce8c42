"""Shell completion: click's own (``_CREDCHAIN_COMPLETE``), with the config's entry names."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete

from credchain.cli import main

WriteConfig = Callable[[dict[str, object]], Path]
CREDCHAIN = Path(sys.executable).parent / "credchain"
DOCUMENT: dict[str, object] = {
    "chain": ["primary", "script"],
    "providers": {
        "primary": {"type": "thycotic", "url": "https://vault.example.com"},
        "dr": {"type": "thycotic", "url": "https://dr.example.com"},
        "script": {"type": "custom-script"},
    },
}


def complete(args: list[str], incomplete: str = "") -> list[str]:
    completion = ShellComplete(main, {}, "credchain", "_CREDCHAIN_COMPLETE")
    return [item.value for item in completion.get_completions(args, incomplete)]


def test_test_completes_the_entry_names_chain_first(home: Path, write_config: WriteConfig) -> None:
    write_config(DOCUMENT)
    assert complete(["test"]) == ["primary", "script", "dr"]
    assert complete(["test"], "p") == ["primary"]


def test_chain_set_completes_the_entry_names(home: Path, write_config: WriteConfig) -> None:
    write_config(DOCUMENT)
    assert complete(["chain", "set", "primary"], "d") == ["dr"]


def test_an_entry_option_completes_its_types_entries(home: Path, write_config: WriteConfig) -> None:
    write_config(DOCUMENT)
    assert complete(["token", "--entry"]) == ["primary", "dr"]


def test_config_given_first_is_the_one_read(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('chain = ["lab"]\n')
    assert complete(["test", "--config", str(other)]) == ["lab"]


def test_no_or_broken_config_completes_nothing(home: Path) -> None:
    assert complete(["test"]) == []
    (home / "credchain.toml").write_text("chain = [")
    assert complete(["test"]) == []


def test_commands_complete(home: Path) -> None:
    assert {"resolve", "test", "status", "providers"} <= set(complete([]))


@pytest.mark.skipif(not CREDCHAIN.exists(), reason="the credchain script is not installed")
def test_bash_completion_as_documented(home: Path, write_config: WriteConfig) -> None:
    write_config(DOCUMENT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CREDCHAIN")}
    source = subprocess.run(
        [str(CREDCHAIN)],
        env={**env, "_CREDCHAIN_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "_credchain_completion" in source.stdout and "complete " in source.stdout
    answer = subprocess.run(
        [str(CREDCHAIN)],
        env={
            **env,
            "_CREDCHAIN_COMPLETE": "bash_complete",
            "COMP_WORDS": "credchain test s",
            "COMP_CWORD": "2",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert answer.stdout.split() == ["plain,script"]
