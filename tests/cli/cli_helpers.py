"""Helpers for the admin CLI tests: running credchain in-process or in a pseudo-terminal."""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pexpect
from click.testing import CliRunner

from credchain.cli import main
from credchain.devserver import DevServer, demo_password

#: a Scan Account secret of the demo data: username svc-scan, password and privilege password
ASSET = "web-01.corp.example.com"
ASSET_SECRETS = [demo_password(ASSET), demo_password(ASSET + ":root")]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``credchain ARGS`` in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def port_of(server: DevServer) -> int:
    port = urlsplit(server.url).port
    assert port is not None
    return port


def add_args(server: DevServer, *extra: str, **flags: str | None) -> list[str]:
    """``add --yes`` for ``server``: pinned certificate, admin login, the demo asset."""
    values: dict[str, str | None] = {
        "url": "https://127.0.0.1",
        "port": str(port_of(server)),
        "username": server.admin.username,
        "password": server.admin.password,
        "fingerprint": server.fingerprint_sha256,
        "test_value": ASSET,
    }
    values.update(flags)
    args = ["add", "--yes", "--no-verify-ssl" if values["fingerprint"] else "--verify-ssl"]
    for key, value in values.items():
        if value is not None:
            args += [f"--{key.replace('_', '-')}", value]
    return [*args, *extra]


def subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a credchain child process using ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDCHAIN_")}
    env.update(CREDCHAIN_HOME=str(home), TERM="dumb", NO_COLOR="1", COLUMNS="200", **extra)
    return env


def spawn(args: list[str], home: Path, **env: str) -> pexpect.spawn:
    """``credchain ARGS`` in a pseudo-terminal."""
    child: Any = pexpect.spawn(
        sys.executable,
        ["-m", "credchain", *args],
        env=subprocess_env(home, **env),
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 200),
    )
    child.logfile_read = io.StringIO()
    return child


def log(child: pexpect.spawn) -> str:
    """The whole pseudo-terminal output of the child, without colour codes."""
    return _ANSI.sub("", child.logfile_read.getvalue())


def transcript(child: pexpect.spawn) -> str:
    """Everything the child printed so far (after ``expect(EOF)``), without colour codes."""
    return _ANSI.sub("", str(child.before or ""))


def finish(child: pexpect.spawn) -> tuple[int, str]:
    """Wait for the end: (exit status, the rest of the output)."""
    child.expect(pexpect.EOF)
    child.close()
    status = child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 0)
    return status, transcript(child)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777
