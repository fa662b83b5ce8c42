"""The audit log: one whole JSON line per event, in a private file or on stderr."""

from __future__ import annotations

import io
import json
import logging
import os
import resource
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credchain.agent.audit import AuditLog
from credchain.errors import ConfigError

MOMENT = datetime(2025, 1, 31, 9, 15, 2, 123456, tzinfo=UTC)


def lines_of(*paths: Path) -> list[dict[str, object]]:
    return [json.loads(line) for path in paths for line in path.read_text().splitlines()]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def written(**fields: object) -> dict[str, object]:
    """What one ``write("resolve", **fields)`` puts on its line."""
    stream = io.StringIO()
    AuditLog(stream=stream, now=lambda: MOMENT).write("resolve", **fields)
    [line] = stream.getvalue().splitlines()
    record: dict[str, object] = json.loads(line)
    return record


class FailingStream(io.StringIO):
    """A stream whose next ``failures`` writes fail, as a full disk would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def write(self, text: str) -> int:
        if self.failures:
            self.failures -= 1
            raise OSError(28, "No space left on device")
        return super().write(text)


# --- the file ---------------------------------------------------------------------------------


def test_a_new_file_is_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    with umask(0):
        AuditLog(path).close()
    assert mode_of(path) == 0o600


def test_rotated_files_are_0600_too(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    with umask(0):
        audit = AuditLog(path, max_bytes=300, backups=3)
        for number in range(40):
            audit.write("resolve", number=number)
        audit.close()
    rotated = [tmp_path / f"audit.log.{n}" for n in (1, 2, 3)]
    assert all(file.exists() for file in rotated)
    assert [mode_of(file) for file in (path, *rotated)] == [0o600] * 4
    assert not (tmp_path / "audit.log.4").exists()


def test_rotation_keeps_lines_whole_and_in_order(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path, max_bytes=300, backups=50)
    for number in range(40):
        audit.write("resolve", number=number)
    audit.close()
    files = sorted(tmp_path.glob("audit.log.*"), key=lambda p: -int(p.suffix[1:]))
    assert [line["number"] for line in lines_of(*files, path)] == list(range(40))
    assert all(file.stat().st_size <= 300 for file in files)


def test_an_existing_file_with_a_looser_mode_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text('{"event": "health"}\n')
    path.chmod(0o644)
    backup = tmp_path / "audit.log.1"
    backup.write_text('{"event": "health"}\n')
    backup.chmod(0o644)
    AuditLog(path).close()
    assert (mode_of(path), mode_of(backup)) == (0o600, 0o600)


def test_lines_are_appended_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text('{"event": "health"}\n')
    path.chmod(0o600)
    audit = AuditLog(path)
    audit.write("reload")
    audit.close()
    assert [line["event"] for line in lines_of(path)] == ["health", "reload"]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_an_existing_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.touch(mode=0o600)
    os.chown(path, 65534, 65534)
    with pytest.raises(ConfigError, match="owned by uid 65534") as raised:
        AuditLog(path)
    assert str(path) in str(raised.value)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.touch(mode=0o600)
    path = tmp_path / "audit.log"
    path.symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link"):
        AuditLog(path)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open the audit log"):
        AuditLog(tmp_path)


def test_a_missing_directory_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "audit.log"
    with pytest.raises(ConfigError, match="directory does not exist") as raised:
        AuditLog(path)
    assert raised.value.path == str(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    "settings",
    [{"max_bytes": -1}, {"max_bytes": 100, "backups": 0}, {"stream": io.StringIO()}],
    ids=["negative size", "rotation without backups", "file and stream"],
)
def test_impossible_settings_are_refused(tmp_path: Path, settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AuditLog(tmp_path / "audit.log", **settings)


def test_without_rotation_the_file_grows(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path, max_bytes=0, backups=0)
    for _ in range(20):
        audit.write("health")
    audit.close()
    assert len(lines_of(path)) == 20
    assert list(tmp_path.iterdir()) == [path]


# --- the lines --------------------------------------------------------------------------------


def test_a_line_starts_with_time_and_event() -> None:
    record = written(status=200)
    assert list(record) == ["time", "event", "status"]
    assert record["event"] == "resolve"


def test_time_is_utc_iso8601_with_milliseconds_and_z() -> None:
    assert written()["time"] == "2025-01-31T09:15:02.123Z"


def test_the_clock_defaults_to_now_in_utc() -> None:
    stream = io.StringIO()
    before = datetime.now(UTC).replace(microsecond=0)
    AuditLog(stream=stream).write("health")
    stamp = json.loads(stream.getvalue())["time"]
    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")) >= before


def test_fields_that_are_none_are_left_out() -> None:
    assert "secret" not in written(secret=None, entry="vault")


def test_fields_cannot_replace_time_and_event() -> None:
    record = written(time="yesterday")
    assert record["time"] == "2025-01-31T09:15:02.123Z"


def test_nested_values_are_written_as_json() -> None:
    record = written(caller={"uid": 0, "pid": 12}, query={"asset_name": "web01"}, ms=1.234)
    assert record["caller"] == {"uid": 0, "pid": 12}
    assert record["query"] == {"asset_name": "web01"}
    assert record["ms"] == 1.234


def test_a_value_json_cannot_hold_is_written_as_its_str() -> None:
    assert written(path=Path("/etc/credchain"))["path"] == "/etc/credchain"


def test_a_float_that_is_not_finite_is_written_as_a_string() -> None:
    record = written(ms=float("nan"), caller={"uid": 0})
    assert record["ms"] == "nan"
    assert record["caller"] == {"uid": 0}


def test_a_circular_value_is_written_without_its_cycle() -> None:
    loop: dict[str, object] = {"uid": 0}
    loop["self"] = loop
    assert written(caller=loop)["caller"] == {"uid": 0, "self": "..."}


@pytest.mark.parametrize(
    "reason", ["line\nbreak", "carriage\rreturn", "nul\0", "separator\u2028", "next\x85line"]
)
def test_control_characters_in_a_reason_stay_on_one_line(reason: str) -> None:
    assert written(reason=reason)["reason"] == reason


def test_an_executable_path_that_was_not_utf8_is_written(tmp_path: Path) -> None:
    undecodable = os.fsdecode(b"/opt/scanner-\xff")
    path = tmp_path / "audit.log"
    audit = AuditLog(path)
    audit.write("refused", caller={"executable": undecodable})
    audit.close()
    [record] = lines_of(path)
    assert record["caller"] == {"executable": undecodable}


@given(
    st.dictionaries(
        st.text().filter(lambda name: name not in ("time", "event")),
        st.text(alphabet=st.characters(codec=None)),
        max_size=8,
    )
)
def test_any_text_fields_round_trip_through_one_line(fields: dict[str, str]) -> None:
    stream = io.StringIO()
    AuditLog(stream=stream, now=lambda: MOMENT).write("resolve", **fields)
    [line] = stream.getvalue().splitlines()
    assert json.loads(line) == {"time": "2025-01-31T09:15:02.123Z", "event": "resolve", **fields}


# --- stderr, failures, threads ---------------------------------------------------------------


def test_without_a_path_lines_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    AuditLog().write("health", status=200)
    captured = capsys.readouterr()
    assert json.loads(captured.err)["status"] == 200
    assert captured.out == ""


def test_a_failed_write_is_reported_once_then_retried(caplog: pytest.LogCaptureFixture) -> None:
    stream = FailingStream(failures=2)
    audit = AuditLog(stream=stream)
    with caplog.at_level(logging.WARNING, logger="credchain.agent.audit"):
        for number in range(4):
            audit.write("resolve", number=number)
    assert [json.loads(line)["number"] for line in stream.getvalue().splitlines()] == [2, 3]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "cannot write the audit log stream: [Errno 28] No space left on device"),
        ("WARNING", "the audit log stream is written again; 2 events were lost"),
    ]


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and SIGXFSZ as on Linux")
def test_a_line_cut_short_by_a_full_file_does_not_swallow_the_next(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path)
    audit.write("resolve", number=0)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 10, hard))
        audit.write("resolve", number=1, reason="x" * 100)  # 10 bytes get in, then EFBIG
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    audit.write("resolve", number=2)
    audit.close()
    first, cut, last = path.read_text().splitlines()
    assert (json.loads(first)["number"], json.loads(last)["number"]) == (0, 2)
    assert len(cut) == 10
    assert "File too large" in caplog.text


def test_writes_after_close_are_dropped_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path)
    audit.close()
    audit.write("health")
    audit.write("health")
    assert path.read_text() == ""
    assert caplog.text.count("the audit log is closed") == 1


def test_concurrent_writes_from_8_threads_are_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path, max_bytes=64 * 1024, backups=50)

    def write_many(thread: int) -> None:
        for number in range(250):
            audit.write("resolve", thread=thread, number=number, reason="r" * (number % 97))

    threads = [threading.Thread(target=write_many, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    audit.close()
    records = lines_of(path, *tmp_path.glob("audit.log.*"))
    assert sorted((r["thread"], r["number"]) for r in records) == [
        (t, n) for t in range(8) for n in range(250)
    ]
