"""The agent's audit log: one JSON object per line, one line per request, never a secret.

Written to a file (created 0600, rotated by size, rotated files 0600 too) or to stderr. The
fields, for a SIEM; a field without a value is left out:

``time``
    when the event was written: UTC, ISO 8601 with milliseconds, ``2025-01-31T09:15:02.123Z``
``event``
    ``resolve``, ``resolve-many``, ``explain``, ``health``, ``metrics``, ``openapi``, ``reload``,
    ``refused``, ``rejected`` (no such route, a wrong method, a bad parameter)
``caller``
    who asked, as the kernel reports it: ``uid``, ``gid``, ``pid``, ``executable`` for a Unix
    socket, ``address`` (``host:port``) for TCP (``credchain.agent.callers.Caller.to_audit``)
``route``
    the request's path, ``/v1/resolve``
``query``
    the asset identifiers asked for (``asset_name``, ``ip_address``, ``cmdb_id``, ``domain``);
    never a secret
``entry``
    the chain entry that answered, or the last one tried
``secret``
    the provider's id of the secret, when the provider reports one
``outcome``
    ``found``, ``not_found``, ``unavailable``, ``error``, ``refused``, ``bad_request``, ``ok``
``status``
    the HTTP status returned
``ms``
    how long the request took, in milliseconds (a float, 3 decimals)
``reason``
    for a refusal or an error, its one-line message; never a secret

Writing never raises into the request path: a failed write is logged once (``logging``, on
stderr), later writes try again, and when one succeeds the number of events lost is logged.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.handlers
import math
import os
import stat
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from credchain.errors import ConfigError

__all__ = ["AuditLog"]

log = logging.getLogger(__name__)

#: characters that ``str.splitlines`` and some log shippers take for line ends, and that
#: ``json.dumps(ensure_ascii=False)`` would write as they are; escaped, the JSON is the same
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class AuditLog:
    """One JSON line per event, to a private file rotated by size or to a stream (stderr).

    ``path``'s directory must exist. A file already there must be a regular file owned by the
    agent's user; a looser mode than 0600 is tightened. With ``max_bytes`` 0 the file is never
    rotated; otherwise it is rotated before a line would take it past ``max_bytes``, keeping
    ``backups`` older files (``PATH.1`` the newest). Thread-safe.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_bytes: int = 10 * 1024 * 1024,
        backups: int = 5,
        stream: TextIO | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if path is not None and stream is not None:
            raise ValueError("an audit log goes to a file or to a stream, not both")
        if max_bytes < 0 or (max_bytes > 0 and backups < 1):
            raise ValueError("a rotated audit log needs max_bytes > 0 and backups >= 1")
        #: the clock as a datetime, when a test gives one; else the time's text is made from
        #: ``time.time()``, its seconds part once a second
        self._now = now
        self._second = -1
        self._second_text = ""
        self._lock = threading.Lock()
        self._failed = False
        self._lost = 0
        self._closed = False
        #: where the lines go, for messages: the path, "stderr", or the stream's name
        self.where = str(path) if path is not None else str(getattr(stream, "name", "stream"))
        if path is None and stream is None:
            self.where = "stderr"
        self._handler: _Handler
        if path is None:
            self._handler = _StreamHandler(stream if stream is not None else sys.stderr)
        else:
            self._handler = _open_file(path, max_bytes, backups)

    def write(self, event: str, **fields: object) -> None:
        """Write one line: ``time``, ``event``, then ``fields`` without those that are None.

        Values are written as JSON; what JSON cannot hold is written as its ``str()``. ``time``
        and ``event`` are the log's own: fields of those names are ignored.
        """
        try:
            line = self._line(event, fields)
        except Exception as exc:  # a str() that raised: nothing to write, but say so
            with self._lock:
                self._lost += 1
                self._report(exc)
            return
        with self._lock:
            if self._closed:
                self._lost += 1
                self._report(ValueError("the audit log is closed"))
                return
            self._handler.failure = None
            self._handler.write_line(line)
            if self._handler.failure is not None:
                self._lost += 1
                self._report(self._handler.failure)
            elif self._failed:
                log.warning(
                    "the audit log %s is written again; %d events were lost", self.where, self._lost
                )
                self._failed = False
                self._lost = 0

    def close(self) -> None:
        """Flush and close the file; later writes are dropped (and that is logged once)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._handler.close()

    def _line(self, event: str, fields: dict[str, object]) -> str:
        record: dict[str, object] = {"time": self._time(), "event": event}
        for name, value in fields.items():
            if value is not None and name not in record:
                record[name] = value
        line = _dumps(record, ensure_ascii=False)
        if not line.isascii():
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (from a path that was not UTF-8)
                return _dumps(record, ensure_ascii=True)
            line = line.translate(_LINE_BREAKS)
        return line

    def _time(self) -> str:
        if self._now is not None:
            return _timestamp(self._now())
        now = time.time()
        second = int(now)
        if second != self._second:  # racing threads write the same text: no lock needed
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{int((now - second) * 1000):03d}Z"

    def _report(self, exc: BaseException) -> None:
        if not self._failed:
            self._failed = True
            log.error("cannot write the audit log %s: %s", self.where, exc)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: built once: ``json.dumps`` with options builds an encoder per call
_ENCODERS = {
    escape: json.JSONEncoder(ensure_ascii=escape, allow_nan=False, default=str)
    for escape in (False, True)
}


def _dumps(record: dict[str, object], *, ensure_ascii: bool) -> str:
    try:
        return _ENCODERS[ensure_ascii].encode(record)
    except (ValueError, TypeError):  # a float that is not finite, a cycle, a key not a string
        return json.dumps(_plain(record, ()), ensure_ascii=ensure_ascii, default=str)


def _plain(value: object, within: tuple[int, ...]) -> object:
    """``value`` with what JSON cannot hold as it is turned into strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict | list | tuple):
        if id(value) in within:
            return "..."
        inner = (*within, id(value))
        if isinstance(value, dict):
            return {str(key): _plain(item, inner) for key, item in value.items()}
        return [_plain(item, inner) for item in value]
    return value


class _Handler(logging.Handler):
    """What ``AuditLog`` needs of a handler: a line written (and flushed), and the exception
    of the last write that failed. Lines are written as they are: no ``LogRecord``."""

    failure: BaseException | None = None

    def write_line(self, line: str) -> None:
        raise NotImplementedError

    def handleError(self, record: logging.LogRecord | None) -> None:
        self.failure = sys.exception()


class _StreamHandler(_Handler, logging.StreamHandler[TextIO]):
    def write_line(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except Exception:
            self.handleError(None)


class _PrivateRotatingFile(_Handler, logging.handlers.RotatingFileHandler):
    """A rotating file whose files are 0600, that reopens the file after a failed write."""

    _size = 0

    def _open(self) -> io.TextIOWrapper:
        stream = _open_private(Path(self.baseFilename), self.encoding, self.errors)
        self._size = os.fstat(stream.fileno()).st_size
        return stream

    def write_line(self, line: str) -> None:
        """Write the line, rotating first when it would pass ``maxBytes``.

        The handler counts what it wrote instead of asking the file system per line, as the
        standard ``shouldRollover`` does (two ``stat`` calls, a seek and a second format).
        """
        try:
            if self.stream is None:
                self.stream = self._open()
            line += "\n"
            size = len(line) if line.isascii() else len(line.encode("utf-8"))
            if 0 < self.maxBytes <= self._size + size and self._size:
                self.doRollover()
            if self.stream is None:
                self.stream = self._open()
            self.stream.write(line)
            self.stream.flush()
            self._size += size
        except Exception:
            self.handleError(None)

    def handleError(self, record: logging.LogRecord | None) -> None:
        super().handleError(record)
        stream, self.stream = self.stream, None
        if stream is not None:
            # the buffered part of the line is lost; the next write reopens the file
            with contextlib.suppress(OSError):
                stream.close()


def _open_file(path: Path, max_bytes: int, backups: int) -> _PrivateRotatingFile:
    if not path.parent.is_dir():
        raise ConfigError("the audit log's directory does not exist", path=str(path))
    for number in range(1, backups + 1):
        _tighten_if_ours(Path(f"{path}.{number}"))
    try:
        return _PrivateRotatingFile(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", errors="strict"
        )
    except OSError as exc:
        raise ConfigError(f"cannot open the audit log: {exc.strerror}", path=str(path)) from exc


def _open_private(path: Path, encoding: str | None, errors: str | None) -> io.TextIOWrapper:
    """``path`` opened for appending, created 0600; an existing file must be ours and regular."""
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise ConfigError(
                "the audit log is a symbolic link; name the file itself", path=str(path)
            ) from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError("the audit log is not a regular file", path=str(path))
        if info.st_uid != os.geteuid():
            raise ConfigError(
                f"the audit log is owned by uid {info.st_uid}, not the agent's uid {os.geteuid()}",
                path=str(path),
            )
        if stat.S_IMODE(info.st_mode) != 0o600:
            os.fchmod(fd, 0o600)
        if info.st_size and os.pread(fd, 1, info.st_size - 1) != b"\n":
            os.write(fd, b"\n")  # a line cut short by a failed write stays a line of its own
        return open(fd, "a", encoding=encoding, errors=errors)
    except BaseException:
        os.close(fd)
        raise


def _tighten_if_ours(path: Path) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_mode & 0o177:
        path.chmod(0o600)
