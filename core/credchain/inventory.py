"""A scan's inventory file: CSV with a header, or JSON lines, of SAFE's query keys.

Read lazily, one asset at a time, so an inventory of any size costs constant memory. CSV columns
other than ``asset_name``, ``ip_address``, ``cmdb_id`` and ``domain`` are ignored (inventories
carry more); a JSON line is a query object as ``credchain resolve --json`` reads on stdin.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from credchain.errors import QueryError
from credchain.models import QUERY_KEYS

__all__ = ["Item", "count_assets", "read_inventory"]

_COLUMNS = (*QUERY_KEYS, "domain")


def _is_jsonl(path: Path) -> bool:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return True
    if path.suffix.lower() == ".csv":
        return False
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                return line.lstrip().startswith("{")
    return False


Item = tuple[int, dict[str, object] | QueryError]


def read_inventory(path: Path) -> Iterator[Item]:
    """Yield ``(line number, query data)`` per asset, or a ``QueryError`` for a bad line.

    A file that cannot be read at all, or a CSV without a usable header, raises ``QueryError``.
    """
    try:
        jsonl = _is_jsonl(path)
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise QueryError(f"cannot read the inventory {path}: {exc.strerror}") from None
    with handle:
        if jsonl:
            yield from _jsonl(path, handle)
        else:
            yield from _csv(path, handle)


def _jsonl(path: Path, lines: Iterator[str]) -> Iterator[Item]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, QueryError(f"{path}:{number}: not JSON ({exc.msg})")
            continue
        if not isinstance(data, dict):
            yield number, QueryError(f"{path}:{number}: not a JSON object")
            continue
        yield number, data


def _csv(path: Path, handle: Iterator[str]) -> Iterator[Item]:
    reader = csv.DictReader(handle)
    header = [name.strip() for name in reader.fieldnames or ()]
    if not set(header) & set(QUERY_KEYS):
        raise QueryError(
            f"{path}:1: the CSV header needs one of {', '.join(QUERY_KEYS)} "
            f"(found: {', '.join(header) or 'nothing'})"
        )
    reader.fieldnames = header
    for row in reader:
        data = {key: row[key] for key in _COLUMNS if row.get(key) not in (None, "")}
        yield reader.line_num, data


def count_assets(path: Path) -> int | None:
    """How many non-blank lines of assets a regular file holds (for a progress bar), or None."""
    try:
        with path.open("rb") as handle:
            count = sum(1 for line in handle if line.strip())
    except OSError:
        return None
    return count if _is_jsonl(path) else max(count - 1, 0)
