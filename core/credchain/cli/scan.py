"""``credchain resolve --inventory FILE``: a whole scan, as JSON lines, with a summary.

Each output line is one asset: its inventory ``line``, the ``query``, the ``outcome`` (found,
not_found, unavailable, error), the ``source`` entry, ``detail``, ``username``, and ``error`` or,
only with ``--show-secrets``, the SAFE dict as ``credential``. Lines come in completion order.
``--output F`` is written to a private (0600) temporary file beside F and renamed over F when the
scan ends, so F is never half written and a scan that fails leaves it as it was.
The summary goes to stderr: found, not found and failed per chain entry, vault requests (of the
providers that are ``CountsRequests``: every HTTP attempt, retries and token grants included) and
how many the vault answered 429, time, and the scan's width: fixed, or adaptive with its mean,
peak and last value (``--concurrency auto``, the default: see ``credchain.pacing``).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from credchain.cli.output import console
from credchain.errors import QueryError
from credchain.files import atomic_open
from credchain.inventory import count_assets, read_inventory
from credchain.provider import CountsRequests
from credchain.resolver import Resolver
from credchain.scan import Concurrency, Resolution, Scan

__all__ = ["ScanSummary", "resolution_record", "run_inventory"]


class ScanSummary:
    """Counts of a scan by outcome and chain entry; with its ``scan``, the width and the 429s."""

    def __init__(self, scan: Scan | None = None) -> None:
        self.started = time.perf_counter()
        self.scan = scan
        self.total = 0
        self.by_outcome: Counter[str] = Counter()
        self.by_entry: dict[str, Counter[str]] = {}
        #: the adaptive width summed at each completion, for its mean
        self._widths = 0

    def add(self, result: Resolution) -> None:
        self.total += 1
        if self.scan is not None and self.scan.width is not None:
            self._widths += self.scan.width.width
        outcome = result.outcome
        self.by_outcome[outcome] += 1
        if result.source is not None and outcome != "not_found":
            self.by_entry.setdefault(result.source, Counter())[outcome] += 1

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def lines(self, resolver: Resolver) -> list[str]:
        failed = self.total - self.by_outcome["found"] - self.by_outcome["not_found"]
        rate = self.total / self.elapsed if self.elapsed > 0 else 0.0
        lines = [
            f"{self.total} assets in {self.elapsed:.2f} s ({rate:.0f}/s): "
            f"{self.by_outcome['found']} resolved, {self.by_outcome['not_found']} not found, "
            f"{failed} failed"
        ]
        throttled = {} if self.scan is None else self.scan.congestion.answers(429)
        for entry in resolver.chain:
            counts = self.by_entry.get(entry.name, Counter())
            provider = entry.provider
            requests = (
                sum(provider.vault_requests().values())
                if isinstance(provider, CountsRequests)
                else None
            )
            refused = throttled.get(entry.name, 0)
            lines.append(
                f"  {entry.name} ({entry.type_name}): {counts['found']} resolved, "
                f"{counts['unavailable'] + counts['error']} failed"
                + ("" if requests is None else f", {requests} vault requests")
                + (f", {refused} answered 429 (too many requests)" if refused else "")
            )
        if self.scan is not None:
            lines.append(self._width_line(self.scan))
        return lines

    def _width_line(self, scan: Scan) -> str:
        width = scan.width
        if width is None:
            return f"  width: fixed at {scan.concurrency}"
        mean = self._widths / self.total if self.total else float(width.width)
        return (
            f"  width: adaptive, 1 to {width.max_width}: mean {mean:.1f}, "
            f"peak {width.peak}, last {width.width}"
        )


def resolution_record(
    result: Resolution, line: int | None, *, show_secrets: bool
) -> dict[str, object]:
    """One output line for one asset; the secret only when asked for."""
    credential = result.credential
    record: dict[str, object] = {
        "line": line,
        "query": None if result.query is None else result.query.to_query_data(),
        "outcome": result.outcome,
        "source": result.source,
        "detail": None if credential is None else credential.detail,
        "username": None if credential is None else credential.username,
        "cached": result.cached,
    }
    if result.error is not None:
        record["error"] = str(result.error)
    if show_secrets and credential is not None:
        record["credential"] = credential.to_safe_dict()
    return record


def run_inventory(
    resolver: Resolver,
    inventory: Path,
    *,
    output: Path | None,
    show_secrets: bool,
    concurrency: Concurrency,
    negative_ttl: float | None,
    max_concurrency: int = 16,
) -> ScanSummary:
    """Resolve every asset of ``inventory``; write JSON lines; return the summary."""
    lines: dict[int, int] = {}

    def queries() -> Iterator[dict[str, object] | QueryError]:
        for index, (line, data) in enumerate(read_inventory(inventory)):
            lines[index] = line
            yield data

    scan = resolver.scan(
        concurrency=concurrency, max_concurrency=max_concurrency, negative_ttl=negative_ttl
    )
    summary = ScanSummary(scan)
    err = console(stderr=True)
    with ExitStack() as stack:
        # F is replaced only when the scan is done: until then, and after a failure, it is as it was
        out: IO[str] = stack.enter_context(atomic_open(output)) if output else sys.stdout
        progress = None
        task = None
        if err.is_terminal:
            progress = stack.enter_context(
                Progress(
                    TextColumn("resolving"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=err,
                    transient=True,
                )
            )
            task = progress.add_task("resolve", total=count_assets(inventory))
        for result in resolver.run_scan(scan, queries()):
            summary.add(result)
            record = resolution_record(
                result, lines.pop(result.index, None), show_secrets=show_secrets
            )
            out.write(json.dumps(record) + "\n")
            if progress is not None and task is not None:
                progress.advance(task)
    for text in summary.lines(resolver):
        click.echo(text, err=True)
    return summary
