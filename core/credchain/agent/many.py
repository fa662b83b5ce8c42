"""``POST /v1/resolve-many``: JSON lines in, JSON lines out, in completion order.

The request body is read a line at a time while answers are written, so neither side is held
in memory: a reader parses each line and starts its resolution when one of ``width`` slots is
free; resolutions put their line in a queue; the writer sends whatever is queued in one write.
A line that is not a query is answered at once as ``bad_request`` with its own index; a line
longer than aiohttp's buffer is skipped to its end and answered so, and reading goes on. Blank
lines take no index. If the caller goes away, reading stops and the work not started is dropped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import StreamReader, web
from aiohttp.http_exceptions import LineTooLong

from credchain.agent.answers import answer, audit_resolution, ids, many_line, read_query
from credchain.agent.problems import problem_of
from credchain.agent.service import Agent
from credchain.errors import QueryError
from credchain.models import AssetQuery

__all__ = ["stream_answers"]

#: what aiohttp's ``readline`` raises for a line longer than its buffer
_TOO_LONG = (LineTooLong, ValueError)

#: (the output line, the audit fields, seconds the resolution took)
_Answer = tuple[dict[str, object], dict[str, Any], float]


async def stream_answers(
    agent: Agent,
    content: StreamReader,
    response: web.StreamResponse,
    *,
    width: int,
    max_line: int,
    caller: dict[str, object],
    route: str,
) -> None:
    """Answer every query line of ``content`` on ``response`` (see the module docstring)."""
    answers: asyncio.Queue[_Answer | None] = asyncio.Queue()
    slots = asyncio.Semaphore(width)
    running: set[asyncio.Task[None]] = set()

    async def one(index: int, query: AssetQuery) -> None:
        started = time.perf_counter()
        try:
            resolution = await answer(agent, query, index)
        finally:
            slots.release()
        event: dict[str, Any] = {"index": index, "query": ids(query)}
        audit_resolution(event, resolution)
        answers.put_nowait((many_line(resolution), event, time.perf_counter() - started))

    async def read() -> None:
        index = 0
        async for raw in _lines(content):
            event: dict[str, Any] = {"index": index}
            try:
                if raw is None or len(raw) > max_line:
                    raise QueryError(f"a query line is longer than {max_line} bytes")
                query = read_query(raw, event)
            except QueryError as exc:
                event.update(outcome="bad_request", reason=str(exc))
                line = {"index": index, "outcome": "bad_request", "problem": problem_of(exc)}
                answers.put_nowait((line, event, 0.0))
            else:
                await slots.acquire()
                task = asyncio.ensure_future(one(index, query))
                running.add(task)
                task.add_done_callback(running.discard)
            index += 1
        if running:
            await asyncio.gather(*running)

    reader = asyncio.ensure_future(read())
    reader.add_done_callback(lambda _: answers.put_nowait(None))
    try:
        done = False
        while not done:
            batch = [await answers.get()]
            while not answers.empty():
                batch.append(answers.get_nowait())
            chunks = []
            for item in batch:
                if item is None:
                    done = True
                    continue
                line, event, seconds = item
                chunks.append(json.dumps(line).encode() + b"\n")
                agent.audit.write(
                    "resolve-many", caller=caller, route=route, ms=round(seconds * 1000, 3), **event
                )
            if chunks:
                await response.write(b"".join(chunks))
        await reader  # its error, if reading failed
    finally:  # the caller went away mid-stream: stop reading, drop what is left
        reader.cancel()
        for task in running:
            task.cancel()


async def _lines(content: StreamReader) -> AsyncIterator[bytes | None]:
    """The non-blank lines of ``content``; None for one longer than aiohttp's buffer."""
    while True:
        try:
            raw = await content.readline()
        except _TOO_LONG:
            await _skip_line(content)
            yield None
            continue
        if not raw:
            return
        if raw.strip():
            yield raw


async def _skip_line(content: StreamReader) -> None:
    """Read past the end of a line that ``readline`` refused as too long."""
    while True:
        try:
            await content.readline()
        except _TOO_LONG:
            continue
        return
