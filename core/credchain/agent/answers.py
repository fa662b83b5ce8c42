"""What requests and answers are made of: a query read from a body, a resolution asked of the
current configuration, and the answer's JSON line and audit fields. Shared by the handlers of
``server`` and the streaming of ``many``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from credchain.agent.problems import problem_of
from credchain.agent.service import Agent
from credchain.errors import QueryError
from credchain.models import AssetQuery
from credchain.scan import Resolution

__all__ = ["answer", "audit_resolution", "ids", "many_line", "read_query"]


def _json_value(raw: bytes) -> object:
    """The JSON value of a query body: UTF-8 only (RFC 8259), though ``json.loads`` would
    take UTF-16 and UTF-32 bytes too."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise QueryError("the query is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise QueryError(f"the query is not JSON: {exc}") from None
    except (RecursionError, ValueError):
        raise QueryError("the query is not JSON credchain takes") from None


def read_query(raw: bytes, audit: dict[str, Any]) -> AssetQuery:
    """The query in a body (or a resolve-many line); its identifiers go into ``audit``."""
    data = _json_value(raw)
    if not isinstance(data, dict):
        raise QueryError(f"a query must be a JSON object, not {type(data).__name__}")
    query = AssetQuery.from_query_data(data)
    audit["query"] = ids(query)
    return query


def ids(query: AssetQuery) -> dict[str, str]:
    """The asset identifiers asked for, for the audit log (no secret)."""
    return {k: v for k, v in query.model_dump().items() if v is not None}


async def answer(agent: Agent, query: AssetQuery, index: int = 0) -> Resolution:
    """The query's resolution: a cached answer at once, else a walk in the thread pool."""
    generation = agent.acquire()
    started = time.perf_counter()
    try:
        resolution = generation.scan.cached(query, index)
        if resolution is None:
            loop = asyncio.get_running_loop()
            resolution = await loop.run_in_executor(
                agent.pool, generation.scan.answer, query, index
            )
    finally:
        agent.release(generation)
    agent.observe(resolution, time.perf_counter() - started)
    return resolution


def audit_resolution(audit: dict[str, Any], resolution: Resolution) -> None:
    credential = resolution.credential
    audit["outcome"] = resolution.outcome
    audit["entry"] = resolution.source
    if credential is not None:
        audit["secret"] = credential.reference
    elif resolution.error is not None:
        audit["reason"] = str(resolution.error)
    if resolution.cached:
        audit["cached"] = True


def many_line(resolution: Resolution) -> dict[str, object]:
    """One line of ``/v1/resolve-many``."""
    line: dict[str, object] = {
        "index": resolution.index,
        "outcome": resolution.outcome,
        "entry": resolution.source,
        "cached": resolution.cached,
    }
    if resolution.credential is not None:
        line["credential"] = resolution.credential.to_safe_dict()
    elif resolution.error is not None:
        line["problem"] = problem_of(resolution.error)
    return line
