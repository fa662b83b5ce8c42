"""The systemd units in contrib/systemd: what can be checked without running systemd.

They parse, ``ExecStart`` is a command line ``credchain agent`` accepts, the service and the
socket name the same socket, and ``systemd-analyze verify`` (where it is installed) has nothing
to say about them.
"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from credchain.agent.process import DRAIN_SECONDS
from credchain.cli.agent import agent

UNITS = Path(__file__).resolve().parents[2] / "contrib" / "systemd"
SERVICE = UNITS / "credchain-agent.service"
SOCKET = UNITS / "credchain-agent.socket"
DROP_IN = UNITS / "credchain-agent.service.d" / "socket-activation.conf"


def unit(path: Path) -> configparser.ConfigParser:
    """A unit file's sections; keys keep their case, a repeated key keeps its last value."""
    parser = configparser.ConfigParser(
        strict=False, interpolation=None, empty_lines_in_values=False
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    return parser


def exec_start() -> list[str]:
    return shlex.split(unit(SERVICE)["Service"]["ExecStart"])


def agent_options(words: list[str]) -> dict[str, object]:
    """The parameters ``credchain agent`` parses from ``words`` (a usage error if it refuses)."""
    with agent.make_context("agent", list(words)) as ctx:
        return dict(ctx.params)


def test_exec_start_runs_credchain_agent() -> None:
    program, command, *_ = exec_start()
    assert Path(program).is_absolute() and Path(program).name == "credchain"
    assert command == "agent"


def test_exec_start_options_are_ones_credchain_agent_takes() -> None:
    params = agent_options(exec_start()[2:])
    assert params["check"] is False
    assert params["socket_path"] == "/run/credchain/agent.sock"
    assert params["audit_log"] == "/var/log/credchain/audit.log"


def test_an_option_credchain_agent_does_not_take_is_refused() -> None:
    # the check above means something: make_context does refuse what the command does not take
    with pytest.raises(click.NoSuchOption):
        agent_options(["--no-such-option"])


def test_the_socket_unit_listens_where_the_service_would() -> None:
    socket_section = unit(SOCKET)["Socket"]
    assert socket_section["ListenStream"] == agent_options(exec_start()[2:])["socket_path"]
    assert socket_section["SocketMode"] == "0660"
    assert socket_section["Accept"] == "no"  # one agent for every connection, not one each
    assert socket_section["SocketUser"] == unit(SERVICE)["Service"]["User"]


def test_the_service_writes_only_its_home_logs_and_socket_directory() -> None:
    service = unit(SERVICE)["Service"]
    home = service["Environment"].removeprefix("CREDCHAIN_HOME=")
    assert service["ProtectSystem"] == "strict" and service["ReadWritePaths"] == home
    assert home == "/var/lib/" + service["StateDirectory"]
    assert service["StateDirectoryMode"] == "0700"
    audit_log = agent_options(exec_start()[2:])["audit_log"]
    assert str(audit_log).startswith("/var/log/" + service["LogsDirectory"] + "/")
    socket_path = str(agent_options(exec_start()[2:])["socket_path"])
    assert socket_path.startswith("/run/" + service["RuntimeDirectory"] + "/")
    assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes"


def test_reload_is_sighup_and_stop_waits_for_the_drain() -> None:
    service = unit(SERVICE)["Service"]
    assert shlex.split(service["ExecReload"])[1:] == ["-HUP", "$MAINPID"]
    assert service["KillSignal"] == "SIGTERM"
    assert float(service["TimeoutStopSec"]) > DRAIN_SECONDS


def test_the_socket_activation_drop_in_leaves_run_credchain_to_the_socket() -> None:
    assert unit(DROP_IN)["Service"]["RuntimeDirectory"] == ""


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    # verify insists that ExecStart's program exists: this interpreter's credchain stands in
    credchain = Path(sys.executable).with_name("credchain")
    shutil.copytree(UNITS, tmp_path, dirs_exist_ok=True)
    service = tmp_path / SERVICE.name
    program = exec_start()[0]
    service.write_text(service.read_text().replace(program, str(credchain)))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / SOCKET.name), str(service)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 on a key it ignores, but says so on stderr
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
