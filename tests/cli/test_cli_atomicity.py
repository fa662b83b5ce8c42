"""Safe writes: a killed ``add`` leaves the previous configuration intact.

How: ``credchain.configstore`` has a test hook, ``CREDCHAIN_TEST_PAUSE_BEFORE_COMMIT=PATH``:
after every file of the save is written to its temporary file and fsynced, and before any is
renamed into place, the process creates PATH and sleeps. The test waits for PATH, SIGKILLs the
``credchain add --yes`` subprocess there (the worst moment: new data on disk, not yet in
place), and checks that the old config and mapping are byte for byte what they were. The
temporary files the kill left are swept by the next command that writes (it holds the home's
lock, so the writer that left them is gone). A second test kills ``add`` during a slow login.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import add_args, finish, run, spawn, subprocess_env

from credchain.config import load_config
from credchain.configstore import PAUSE_ENV
from credchain.devserver import DevServer

pytestmark = pytest.mark.timeout(60)
MAPPING = "integrations/custom/thycotic/thycotic_mapping.json"


def snapshot(home: Path) -> dict[str, bytes]:
    return {name: (home / name).read_bytes() for name in ("credchain.toml", MAPPING)}


def leftovers(home: Path) -> list[Path]:
    return sorted(p for p in home.rglob(".*.tmp"))


def wait_for(path: Path, child: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the writer never reached the pause"
        time.sleep(0.02)


def test_kill_between_write_and_rename_keeps_the_old_configuration(
    secret_server: DevServer, home: Path
) -> None:
    assert run(*add_args(secret_server))[0] == 0
    before = snapshot(home)
    marker = home.parent / "paused"
    args = add_args(secret_server, privilege_password_field="privilege-password")
    child = subprocess.Popen(
        [sys.executable, "-m", "credchain", *args],
        env=subprocess_env(home, **{PAUSE_ENV: str(marker)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(marker, child)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.communicate(timeout=20)
    assert child.returncode == -signal.SIGKILL
    assert snapshot(home) == before
    assert len(leftovers(home)) == 2  # the new config and mapping, written but never renamed
    assert load_config().entry("thycotic").settings["mapping_file"] == MAPPING

    code, out, _ = run("disable")  # the next writer sweeps what the killed one left
    assert (code, out) == (0, "Disabled\n")
    assert leftovers(home) == []
    assert snapshot(home)[MAPPING] == before[MAPPING]


def test_kill_during_a_slow_login_keeps_the_old_configuration(
    secret_server: DevServer, home: Path
) -> None:
    assert run(*add_args(secret_server))[0] == 0
    before = snapshot(home)
    secret_server.add_fault("slow:oauth2/token:delay=10")
    child = spawn(add_args(secret_server, username="someone-else"), home)
    child.expect_exact("Pinned certificate")
    time.sleep(0.3)  # now waiting for the token endpoint
    child.kill(signal.SIGKILL)
    status, _ = finish(child)
    assert status != 0
    assert snapshot(home) == before
    assert leftovers(home) == []
