"""Helpers for the thycotic plugin's own commands (``secret``, ``token``): running credchain
in-process or in a pseudo-terminal, and the client-credentials settings of the demo data."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
from click.testing import CliRunner

from credchain.cli import main

#: the demo data's SDK client (acting as the user "scanner")
CLIENT_ID, CLIENT_SECRET = "scanner-client", "scanner-client-secret"
#: the ``configure`` fixture (conftest.py): write a config whose entry logs in to the dev server
Configure = Callable[..., Path]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Result:
    """What an in-process run printed: exit code, stdout (text and bytes), stderr."""

    def __init__(self, code: int, out: str, out_bytes: bytes, err: str) -> None:
        self.code, self.out, self.out_bytes, self.err = code, out, out_bytes, err

    @property
    def everything(self) -> str:
        return self.out + self.err


def run(*args: str, stdin: str | bytes | None = None) -> Result:
    """``credchain ARGS`` in-process."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stdout_bytes, result.stderr)


def client_settings() -> dict[str, Any]:
    """Settings of the client-credentials grant for the demo data's SDK client."""
    return {
        "grant": "client_credentials",
        "username": None,
        "password": None,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


def spawn(args: list[str], home: Path) -> Any:
    """``credchain ARGS`` in a pseudo-terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDCHAIN_")}
    env.update(CREDCHAIN_HOME=str(home), TERM="dumb", NO_COLOR="1", COLUMNS="200")
    child: Any = pexpect.spawn(
        sys.executable,
        ["-m", "credchain", *args],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 200),
    )
    child.logfile_read = io.StringIO()
    return child


def finish(child: Any) -> tuple[int, str]:
    """Wait for the end: (exit status, the whole pty output without colour codes)."""
    child.expect(pexpect.EOF)
    child.close()
    status = child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 0)
    return status, _ANSI.sub("", child.logfile_read.getvalue())
