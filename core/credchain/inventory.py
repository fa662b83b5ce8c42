"""A scan's inventory file: CSV with a header, or JSON lines, of SAFE's query keys.

Read lazily, one asset at a time, so an inventory of any size costs constant memory. CSV columns
other than ``asset_name``, ``ip_address``, ``cmdb_id`` and ``domain`` are ignored (inventories
carry more); a JSON line is a query object as ``credchain resolve --json`` reads on stdin.

The file is UTF-8, with or without a BOM (Excel's "CSV UTF-8"). A line that is not UTF-8, is
over ``LINE_LIMIT`` characters, or holds a CSV field over ``FIELD_LIMIT`` characters is that
line's ``QueryError``; reading goes on with the next line.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from credchain.errors import QueryError
from credchain.models import QUERY_KEYS

__all__ = ["FIELD_LIMIT", "LINE_LIMIT", "Item", "count_assets", "read_inventory"]

#: the most characters a CSV field may hold: Python's own csv default, 128 KiB
FIELD_LIMIT = 128 * 1024
#: the most characters a line (or a CSV record over several lines) may hold: 1 MiB
LINE_LIMIT = 1024 * 1024

_COLUMNS = (*QUERY_KEYS, "domain")
_CHUNK = 64 * 1024
# surrogateescape decodes each byte that is not UTF-8 to one of these
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _is_jsonl(path: Path) -> bool:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return True
    if path.suffix.lower() == ".csv":
        return False
    with path.open("rb") as handle:
        chunk = handle.read(_CHUNK).removeprefix(codecs.BOM_UTF8)
        while chunk:
            text = chunk.lstrip()
            if text:
                return text.startswith(b"{")
            chunk = handle.read(_CHUNK)
    return False


Item = tuple[int, dict[str, object] | QueryError]


def read_inventory(path: Path) -> Iterator[Item]:
    """Yield ``(line number, query data)`` per asset, or a ``QueryError`` for a bad line.

    A file that cannot be read at all, or a CSV without a usable header, raises ``QueryError``.
    """
    try:
        jsonl = _is_jsonl(path)
        raw = path.open("rb")
    except OSError as exc:
        raise QueryError(f"cannot read the inventory {path}: {exc.strerror}") from None
    # newline="" keeps each line's own ending: csv needs it for quoted newlines
    with io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
        lines = _Lines(text)
        yield from (_jsonl if jsonl else _csv)(path, lines)


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


def _jsonl(path: Path, lines: _Lines) -> Iterator[Item]:
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
        yield number, data


def _csv(path: Path, lines: _Lines) -> Iterator[Item]:
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
    """How many non-blank lines of assets a regular file holds (for a progress bar), or None."""
    count = 0
    try:
        with path.open("rb") as handle:
            content = False  # the line read so far has more than white space
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                *ended, rest = chunk.split(b"\n")
                for segment in ended:
                    count += content or bool(segment.strip())
                    content = False
                content = content or bool(rest.strip())
        count += content
        jsonl = _is_jsonl(path)
    except OSError:
        return None
    return count if jsonl else max(count - 1, 0)
