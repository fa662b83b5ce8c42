"""A scan's inventory file: CSV with a header, or JSON lines, of SAFE's query keys.

Read lazily, one asset at a time, so an inventory of any size costs constant memory, and read
once, from its start to its end: a pipe, ``/dev/stdin`` or ``-`` (standard input) works as a
file does. The format is sniffed from the first bytes read, which are then parsed too.

Keys other than ``asset_name``, ``ip_address``, ``cmdb_id`` and ``domain`` are ignored the same
way in both formats (inventories carry more: an owner, a site), with one warning per inventory
naming them and the first line that had them; a JSON line is otherwise a query object as
``credchain resolve --json`` reads on stdin.

The file is UTF-8, with or without a BOM (Excel's "CSV UTF-8"). A line that is not UTF-8, is
over ``LINE_LIMIT`` characters, or holds a CSV field over ``FIELD_LIMIT`` characters is that
line's ``QueryError``; reading goes on with the next line.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from credchain.errors import QueryError
from credchain.models import QUERY_KEYS

__all__ = ["FIELD_LIMIT", "LINE_LIMIT", "STDIN", "Item", "count_assets", "read_inventory"]

log = logging.getLogger(__name__)

#: the inventory path that means standard input
STDIN = Path("-")

#: the most characters a CSV field may hold: Python's own csv default, 128 KiB
FIELD_LIMIT = 128 * 1024
#: the most characters a line (or a CSV record over several lines) may hold: 1 MiB
LINE_LIMIT = 1024 * 1024

_COLUMNS = (*QUERY_KEYS, "domain")
_CHUNK = 64 * 1024
# surrogateescape decodes each byte that is not UTF-8 to one of these
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _is_jsonl(path: Path, head: bytes) -> bool:
    """JSON lines by the name's suffix, else when the first non-blank byte of ``head`` is ``{``."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return True
    if path.suffix.lower() == ".csv":
        return False
    return head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"{")


def _head(raw: IO[bytes]) -> bytes:
    """The first bytes of ``raw``, up to its first non-blank one (or some ``LINE_LIMIT``)."""
    head = b""
    while len(head) <= LINE_LIMIT:
        chunk = raw.read(_CHUNK)
        head += chunk
        if not chunk or head.removeprefix(codecs.BOM_UTF8).strip():
            break
    return head


def _sniffed(raw: IO[bytes]) -> tuple[bytes, IO[bytes]]:
    """``raw``'s head, and a stream that reads ``raw`` from its start again: nothing is read
    twice from ``raw`` itself, so a pipe works as a file does."""
    head = _head(raw)
    return head, io.BufferedReader(_Prefixed(head, raw), _CHUNK)


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``raw``, as one stream read once."""

    def __init__(self, head: bytes, raw: IO[bytes]) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open(path: Path) -> IO[bytes]:
    if path == STDIN:  # closed with the inventory: the scan reads nothing else from it
        return open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)
    return path.open("rb", buffering=0)


Item = tuple[int, dict[str, object] | QueryError]


def read_inventory(path: Path) -> Iterator[Item]:
    """Yield ``(line number, query data)`` per asset, or a ``QueryError`` for a bad line.

    ``path`` may be a pipe, or ``STDIN`` (``-``), which messages call ``<stdin>``. A file that
    cannot be read at all, or a CSV without a usable header, raises ``QueryError``.
    """
    name = "<stdin>" if path == STDIN else str(path)
    try:
        head, raw = _sniffed(_open(path))
    except OSError as exc:
        raise QueryError(f"cannot read the inventory {name}: {exc.strerror}") from None
    jsonl = _is_jsonl(path, head)
    # newline="" keeps each line's own ending: csv needs it for quoted newlines
    with io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
        lines = _Lines(text)
        yield from (_jsonl if jsonl else _csv)(name, lines)


def _warn_ignored(name: str, line: int, keys: set[str]) -> None:
    shown = ", ".join(sorted(map(_shown, keys)))
    log.warning(
        "%s:%d: ignored keys that are no query keys: %s (those are %s; said once per inventory)",
        name,
        line,
        shown,
        ", ".join(_COLUMNS),
    )


class _BadLine(Exception):
    """A line ``_Lines`` will not hand on; ``reason`` names why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Lines:
    """The lines of a text file, numbered, each checked, none longer than ``LINE_LIMIT``.

    ``next()`` raises ``_BadLine`` for a bad line and may be called again for the next one
    (``csv.reader`` starts a new record then). ``record()`` starts the budget of a record.
    """

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._cr = False  # the last piece ended with "\r": its "\n" may come as the next piece
        self._budget = LINE_LIMIT
        self.number = 0

    def __iter__(self) -> _Lines:
        return self

    def record(self) -> None:
        self._budget = LINE_LIMIT

    def __next__(self) -> str:
        line = self._piece(LINE_LIMIT + 1)
        if not line:
            raise StopIteration
        self.number += 1
        self._budget -= len(line.rstrip("\r\n"))
        if not line.endswith(("\n", "\r")) and len(line) > LINE_LIMIT:
            while line and not line.endswith(("\n", "\r")):  # skip the rest, never holding it
                line = self._piece(_CHUNK)
            raise _BadLine("the line is over 1 MiB")
        if self._budget < 0:
            raise _BadLine("the line is over 1 MiB")
        bad = _UNDECODABLE.search(line)
        if bad is not None:
            byte = ord(bad.group()) - 0xDC00
            raise _BadLine(f"not UTF-8 text (byte 0x{byte:02x} at column {bad.start() + 1})")
        return line

    def _piece(self, limit: int) -> str:
        piece = self._handle.readline(limit)
        if self._cr and piece == "\n":  # a "\r\n" that readline's limit cut in two
            piece = self._handle.readline(limit)
        self._cr = piece.endswith("\r")
        return piece


def _jsonl(path: str, lines: _Lines) -> Iterator[Item]:
    warned = False
    while True:
        lines.record()
        try:
            line = next(lines)
        except StopIteration:
            return
        except _BadLine as exc:
            yield lines.number, QueryError(f"{path}:{lines.number}: {exc.reason}")
            continue
        number = lines.number
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, QueryError(f"{path}:{number}: not JSON ({exc.msg})")
            continue
        except RecursionError:
            yield number, QueryError(f"{path}:{number}: not JSON (nested too deeply)")
            continue
        except ValueError:  # json lets int()'s digit limit through as a bare ValueError
            digits = sys.get_int_max_str_digits()
            yield number, QueryError(f"{path}:{number}: not JSON (a number over {digits} digits)")
            continue
        if not isinstance(data, dict):
            yield number, QueryError(f"{path}:{number}: not a JSON object")
            continue
        extra = set(data) - set(_COLUMNS)
        if extra and not warned:
            _warn_ignored(path, number, extra)
            warned = True
        yield number, {key: value for key, value in data.items() if key in _COLUMNS}


def _csv(path: str, lines: _Lines) -> Iterator[Item]:
    reader = csv.reader(lines)
    try:
        fields = next(reader, [])
        _check_fields(fields)
    except (_BadLine, csv.Error) as exc:
        raise QueryError(f"{path}:1: the CSV header is unusable: {_reason(exc)}") from None
    header = [name.strip() for name in fields]
    if not set(header) & set(QUERY_KEYS):
        raise QueryError(
            f"{path}:1: the CSV header needs one of {', '.join(QUERY_KEYS)} "
            f"(found: {', '.join(map(_shown, header)) or 'nothing'})"
        )
    extra = set(header) - set(_COLUMNS)
    if extra:
        _warn_ignored(path, 1, extra)
    while True:
        lines.record()
        try:
            fields = next(reader)
            _check_fields(fields)
        except StopIteration:
            return
        except (_BadLine, csv.Error) as exc:
            yield lines.number, QueryError(f"{path}:{lines.number}: {_reason(exc)}")
            continue
        if not fields:
            continue  # a blank line
        row = dict(zip(header, fields, strict=False))
        yield lines.number, {key: row[key] for key in _COLUMNS if row.get(key)}


def _shown(name: str) -> str:
    # a quoted header field may hold a newline or a terminal escape: the message stays one line
    return name if name.isprintable() else repr(name)


def _check_fields(fields: list[str]) -> None:
    # csv enforces its process-wide field_size_limit; this keeps ours whatever that is set to
    if any(len(field) > FIELD_LIMIT for field in fields):
        raise _BadLine("a field is over 128 KiB")


def _reason(exc: _BadLine | csv.Error) -> str:
    if isinstance(exc, _BadLine):
        return exc.reason
    if str(exc).startswith("field larger than field limit"):
        return "a field is over 128 KiB"
    return f"not CSV ({exc})"


def count_assets(path: Path) -> int | None:
    """How many non-blank lines of assets a regular file holds (for a progress bar), or None
    for anything else: a pipe can be read only once, by ``read_inventory``."""
    count = 0
    try:
        if path == STDIN or not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open("rb") as handle:
            content = False  # the line read so far has more than white space
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                *ended, rest = chunk.split(b"\n")
                for segment in ended:
                    count += content or bool(segment.strip())
                    content = False
                content = content or bool(rest.strip())
            count += content
            handle.seek(0)
            jsonl = _is_jsonl(path, _head(handle))
    except OSError:
        return None
    return count if jsonl else max(count - 1, 0)
