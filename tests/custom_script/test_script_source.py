"""The script is opened once and checked; its bytes, not its path, are what a worker runs."""

from __future__ import annotations

import base64
import os
import textwrap
from pathlib import Path

import pytest

from credchain_custom_script import SCRIPT_NAME, check_script, script_path, try_script
from credchain_custom_script.source import MAX_SCRIPT, ScriptRefused, read_script
from credchain_custom_script.worker import ScriptRunner

GOOD = """
import base64

def get_password_from_thycotic(query_data):
    return {"username": "svc", "password": base64.b64encode(b"pw").decode()}
"""


def install(home: Path, body: bytes) -> Path:
    path = script_path(home)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(body)
    path.chmod(0o600)
    return path


def test_the_source_is_the_files_bytes_and_its_digest_names_them(home) -> None:
    body = textwrap.dedent(GOOD).encode()
    source = read_script(install(home, body))
    assert source.code == body
    assert read_script(script_path(home)).digest == source.digest
    install(home, body + b"# edited\n")
    assert read_script(script_path(home)).digest != source.digest


def test_the_sources_repr_does_not_show_the_code(home) -> None:
    source = read_script(install(home, b"PASSWORD = 'planted-Pw'\n"))
    assert "planted-Pw" not in repr(source)


def test_a_fifo_at_the_scripts_path_is_refused_without_waiting_for_a_writer(home) -> None:
    path = script_path(home)
    path.parent.mkdir(parents=True, mode=0o700)
    os.mkfifo(path, 0o600)
    with pytest.raises(ScriptRefused, match="not a regular file"):
        read_script(path)


def test_a_dangling_symbolic_link_is_refused_as_a_link(home) -> None:
    path = script_path(home)
    path.parent.mkdir(parents=True, mode=0o700)
    path.symlink_to(home / "nowhere.py")
    with pytest.raises(ScriptRefused, match="is a symbolic link; point the setting at the real"):
        read_script(path)


def test_a_script_larger_than_the_limit_is_refused(home) -> None:
    path = install(home, b"#" * (MAX_SCRIPT + 1))
    with pytest.raises(ScriptRefused, match="larger than 1 MiB"):
        read_script(path)


def test_a_script_at_the_limit_reaches_its_worker(home) -> None:
    body = textwrap.dedent(GOOD).encode()
    path = install(home, body + b"#" * (MAX_SCRIPT - len(body) - 1) + b"\n")
    assert len(read_script(path).code) == MAX_SCRIPT
    credential = try_script(path, {"asset_name": "web-01"}, timeout=10)
    assert credential is not None and credential.password.get_secret_value() == "pw"


def test_a_relative_path_is_checked_from_the_working_directory(home, monkeypatch) -> None:
    install(home, textwrap.dedent(GOOD).encode())
    monkeypatch.chdir(script_path(home).parent)
    assert read_script(Path(SCRIPT_NAME)).path == Path(SCRIPT_NAME)
    (home / "integrations").chmod(0o777)
    with pytest.raises(ScriptRefused, match="integrations above it is writable"):
        read_script(Path(SCRIPT_NAME))


def test_a_missing_directory_is_a_missing_script(home) -> None:
    path = home / "no" / "such" / SCRIPT_NAME
    with pytest.raises(ScriptRefused, match=f"^no script at {path}$"):
        read_script(path)
    assert check_script(path, timeout=5).reason == f"no script at {path}"


def test_a_worker_runs_the_source_it_is_given_and_never_opens_the_path(tmp_path) -> None:
    path = tmp_path / "absent" / SCRIPT_NAME  # nothing there: the source alone is run
    runner = ScriptRunner(path)
    source = b"def get_password_from_thycotic(query_data):\n    raise KeyError('planted')\n"
    runner.update({"op": "load", "source": base64.b64encode(source).decode()})
    assert runner.loaded() == {"kind": "loaded", "line": 1}
    # the path is the code's file name, so the line found is the script's own
    reply = runner.call({})
    assert {k: reply[k] for k in ("kind", "type", "line")} == {
        "kind": "raised",
        "type": "KeyError",
        "line": 2,
    }
    assert f'"{path}", line 2' in reply["traceback"]  # for --debug only


def test_a_worker_given_no_source_runs_nothing(tmp_path) -> None:
    runner = ScriptRunner(tmp_path / SCRIPT_NAME)
    assert runner.call({})["kind"] == "invalid"
