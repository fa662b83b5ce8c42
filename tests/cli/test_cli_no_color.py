"""``NO_COLOR`` (https://no-color.org) turns every colour off on a terminal: click's and rich's.

Run in a real pseudo-terminal, where colour is on by default (the control runs prove it).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
import tomli_w

ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
# status: click.secho (the state) and a rich table; test: print_problem's red "error:".
COMMANDS = [["status"], ["providers"], ["test"]]


def output(home: Path, args: list[str], no_color: str) -> str:
    """All ``credchain ARGS`` wrote to the terminal, with ``NO_COLOR`` set to ``no_color``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CREDCHAIN_", "NO_COLOR"))}
    env.update(CREDCHAIN_HOME=str(home), TERM="xterm-256color", NO_COLOR=no_color)
    text: str = pexpect.run(
        f"{sys.executable} -m credchain {' '.join(args)}",
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 200),
    )
    return text


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "credchain.toml").write_text(tomli_w.dumps({"chain": ["custom-script"]}))
    (home / "credchain.toml").chmod(0o600)
    return home


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_color_leaves_no_colour_codes(configured: Path, args: list[str]) -> None:
    coloured = output(configured, args, "")  # empty counts as unset, by the convention
    assert ESCAPE.search(coloured), coloured
    plain = output(configured, args, "1")
    assert not ESCAPE.search(plain), plain
    assert ESCAPE.sub("", coloured).split() == plain.split()  # the same text, uncoloured
