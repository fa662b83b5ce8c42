"""The agent's HTTP + JSON API on aiohttp (``docs/agent.md``; ``GET /v1/openapi.json``).

aiohttp's server is used because it serves Unix sockets and pre-bound sockets (systemd socket
activation) as well as TLS over TCP, gives each request its transport (for ``SO_PEERCRED``), and
streams responses, which ``/v1/resolve-many`` needs. The event loop only parses and writes: every
chain walk runs in the agent's bounded thread pool.

Each request passes one middleware that identifies the caller (once per connection), refuses
those the ``[agent]`` policy does not allow (403) or, over TCP, that lack the bearer token (401),
times the request, counts it, and writes its audit line.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.streams import StreamReader

from credchain.agent.callers import Caller, caller_of
from credchain.agent.openapi import OPENAPI
from credchain.agent.problems import Problem, problem, problem_of
from credchain.agent.service import Agent, Generation
from credchain.agent.settings import token_matches
from credchain.errors import ConfigError, CredchainError, QueryError
from credchain.models import AssetQuery
from credchain.scan import Resolution

__all__ = ["MAX_LINE", "build_app"]

#: the longest query (a request body, or one line of resolve-many): queries are a few short values
MAX_LINE = 64 * 1024
_AGENT: web.AppKey[Agent] = web.AppKey("agent", Agent)
_JSON = "application/json"
_NDJSON = "application/x-ndjson"
log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(agent: Agent) -> web.Application:
    """The aiohttp application serving ``agent``."""
    #: per connection: its caller, and the refusal decided under the generation that decided it
    callers: weakref.WeakKeyDictionary[object, _Connection] = weakref.WeakKeyDictionary()

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "other"
        metrics = agent.metrics
        metrics.in_flight.inc()
        audit: dict[str, Any] = {}
        request["audit"] = audit
        try:
            connection = _connection(request, callers)
            caller = request["caller"] = connection.caller
            refusal = await _refusal(agent, connection, request)
            if refusal is not None:
                status, why, reason = refusal
                metrics.refused.labels(why).inc()
                audit.update(event="refused", outcome="refused", reason=reason)
                response: web.StreamResponse = _problem_response(
                    problem(
                        "forbidden" if status == 403 else "unauthorized",
                        status,
                        "Forbidden" if status == 403 else "Unauthorized",
                        reason,
                    )
                )
                if status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="credchain"'
            else:
                try:
                    response = await handler(request)
                except web.HTTPException as exc:  # aiohttp's own: 404, 405, 413 ...
                    if exc.status < 400:
                        raise
                    audit.setdefault("outcome", "bad_request")
                    response = _problem_response(
                        problem(_slug(exc.status), exc.status, _phrase(exc.status), exc.reason)
                    )
                    if "Allow" in exc.headers:  # a 405 must say which methods (RFC 9110)
                        response.headers["Allow"] = exc.headers["Allow"]
                except CredchainError as exc:
                    bad = isinstance(exc, QueryError)
                    audit.update(outcome="bad_request" if bad else "error", reason=str(exc))
                    response = _problem_response(problem_of(exc))
                except Exception as exc:  # a bug: one line to the caller, the rest to --debug
                    log.debug("request %s %s failed", request.method, request.path, exc_info=True)
                    reason = f"agent bug: unexpected {type(exc).__name__} (see the debug log)"
                    audit.update(outcome="error", reason=reason)
                    response = _problem_response(problem("internal", 500, "Agent error", reason))
        finally:
            metrics.in_flight.dec()
        seconds = time.perf_counter() - started
        metrics.requests.labels(name, str(response.status)).inc()
        metrics.request_seconds.labels(name).observe(seconds)
        if audit.get("event") is not None:
            agent.audit.write(
                audit.pop("event"),
                caller=caller.to_audit(),
                route=f"{request.method} {request.path}",
                status=response.status,
                ms=round(seconds * 1000, 3),
                **audit,
            )
        return response

    async def resolve(request: web.Request) -> web.StreamResponse:
        audit = request["audit"]
        audit["event"] = "resolve"
        query = _query(await _body(request), audit)
        resolution = await _answer(agent, query)
        _audit_resolution(audit, resolution)
        if resolution.credential is None:
            assert resolution.error is not None
            return _problem_response(problem_of(resolution.error))
        return web.json_response(
            resolution.credential.to_safe_dict(),
            headers={"Credchain-Entry": resolution.credential.source},
        )

    async def explain(request: web.Request) -> web.StreamResponse:
        audit = request["audit"]
        audit["event"] = "explain"
        query = _query(await _body(request), audit)
        loop = asyncio.get_running_loop()
        generation = agent.acquire()
        try:
            trace = await loop.run_in_executor(agent.pool, generation.resolver.explain, query)
        finally:
            agent.release(generation)
        audit["outcome"] = trace.outcome
        return web.json_response(trace.to_dict())

    async def resolve_many(request: web.Request) -> web.StreamResponse:
        settings = agent.current.settings
        width = _width(request.query.get("concurrency"), settings.max_concurrency)
        response = web.StreamResponse(headers={"Content-Type": _NDJSON})
        await response.prepare(request)
        caller = request["caller"].to_audit()
        route = f"{request.method} {request.path}"
        pending: set[asyncio.Future[tuple[int, AssetQuery, Resolution, float]]] = set()
        reading: asyncio.Task[bytes] | None = asyncio.ensure_future(request.content.readline())
        index = 0

        async def one(i: int, query: AssetQuery) -> tuple[int, AssetQuery, Resolution, float]:
            started = time.perf_counter()
            resolution = await _answer(agent, query, i)
            return i, query, resolution, time.perf_counter() - started

        async def emit(line: dict[str, object], event: dict[str, Any], ms: float) -> None:
            await response.write(json.dumps(line).encode() + b"\n")
            agent.audit.write(
                "resolve-many", caller=caller, route=route, ms=round(ms * 1000, 3), **event
            )

        try:
            while reading is not None or pending:
                waiting: set[asyncio.Future[Any]] = set(pending)
                if reading is not None and len(pending) < width:
                    waiting.add(reading)
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for finished in done:
                    if finished is reading:
                        raw: bytes | None
                        try:
                            raw = reading.result()
                        except _TOO_LONG:  # longer than aiohttp's buffer: its rest is skipped
                            await _skip_line(request.content)
                            raw = None
                        if raw == b"":
                            reading = None
                            continue
                        reading = asyncio.ensure_future(request.content.readline())
                        if raw is not None and not raw.strip():
                            continue
                        event: dict[str, Any] = {"index": index}
                        try:
                            if raw is None or len(raw) > MAX_LINE:
                                raise QueryError(f"a query line is longer than {MAX_LINE} bytes")
                            query = _query(_json(raw), event)
                        except QueryError as exc:
                            event.update(outcome="bad_request", reason=str(exc))
                            await emit(
                                {
                                    "index": index,
                                    "outcome": "bad_request",
                                    "problem": problem_of(exc),
                                },
                                event,
                                0,
                            )
                        else:
                            pending.add(asyncio.ensure_future(one(index, query)))
                        index += 1
                    else:
                        pending.discard(finished)
                        i, query, resolution, seconds = finished.result()
                        event = {"index": i, "query": _ids(query)}
                        _audit_resolution(event, resolution)
                        await emit(_line(resolution), event, seconds)
        finally:  # the caller went away mid-stream: stop reading, drop what is left
            if reading is not None:
                reading.cancel()
            for future in pending:
                future.cancel()
        await response.write_eof()
        return response

    async def health(request: web.Request) -> web.StreamResponse:
        return web.json_response(agent.health())

    async def reload(request: web.Request) -> web.StreamResponse:
        request["audit"]["event"] = None  # the reload writes its own audit line
        try:
            answer = await agent.reload("POST /v1/reload")
        except ConfigError as exc:
            return _problem_response(problem_of(exc))
        return web.json_response(answer)

    async def openapi(request: web.Request) -> web.StreamResponse:
        return web.json_response(OPENAPI)

    async def metrics(request: web.Request) -> web.StreamResponse:
        body = agent.metrics.render()
        return web.Response(body=body, headers={"Content-Type": agent.metrics.CONTENT_TYPE})

    app = web.Application(middlewares=[guard], client_max_size=MAX_LINE)
    app[_AGENT] = agent
    app.router.add_post("/v1/resolve", resolve)
    app.router.add_post("/v1/resolve-many", resolve_many)
    app.router.add_post("/v1/explain", explain)
    app.router.add_get("/v1/health", health, allow_head=False)
    app.router.add_post("/v1/reload", reload)
    app.router.add_get("/v1/openapi.json", openapi, allow_head=False)
    app.router.add_get("/metrics", metrics, allow_head=False)
    return app


#: what aiohttp's ``readline`` raises for a line longer than its buffer (older versions: ValueError)
_TOO_LONG = (LineTooLong, ValueError)


async def _skip_line(content: StreamReader) -> None:
    """Read past the end of a line that ``readline`` refused as too long."""
    while True:
        try:
            await content.readline()
        except _TOO_LONG:
            continue
        return


# -- callers -------------------------------------------------------------------------------------


class _Connection:
    __slots__ = ("caller", "decided")

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        #: the generation whose policy decided, and its refusal (None: allowed)
        self.decided: tuple[Generation, str | None] | None = None


def _connection(
    request: web.Request, known: weakref.WeakKeyDictionary[object, _Connection]
) -> _Connection:
    """This request's connection: who is at the other end is asked once per connection."""
    transport = request.transport
    if transport is None:
        return _Connection(Caller())
    connection = known.get(transport)
    if connection is None:
        sock = transport.get_extra_info("socket")
        connection = _Connection(caller_of(sock) if sock is not None else Caller())
        known[transport] = connection
    return connection


async def _refusal(
    agent: Agent, connection: _Connection, request: web.Request
) -> tuple[int, str, str] | None:
    """``(status, why, reason)`` when the caller may not ask, else None.

    A Unix caller is decided once per connection and configuration, in the thread pool (a
    SHA-256 check may read a large executable); a TCP caller shows the bearer token each time.
    """
    generation = agent.current
    caller = connection.caller
    if caller.address is not None:
        token = generation.token
        if token is None or not token_matches(token, request.headers.get("Authorization")):
            return 401, "token", "a bearer token is needed (Authorization: Bearer ...)"
        return None
    decided = connection.decided
    if decided is None or decided[0] is not generation:
        loop = asyncio.get_running_loop()
        reason = await loop.run_in_executor(agent.pool, generation.policy.refusal, caller)
        connection.decided = decided = (generation, reason)
    reason = decided[1]
    return None if reason is None else (403, "policy", reason)


# -- requests ------------------------------------------------------------------------------------


async def _body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise QueryError(f"the query is larger than {MAX_LINE} bytes") from None


def _json(raw: bytes) -> object:
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


def _query(raw: bytes | object, audit: dict[str, Any]) -> AssetQuery:
    data = _json(raw) if isinstance(raw, bytes) else raw
    if not isinstance(data, dict):
        raise QueryError(f"a query must be a JSON object, not {type(data).__name__}")
    query = AssetQuery.from_query_data(data)
    audit["query"] = _ids(query)
    return query


def _ids(query: AssetQuery) -> dict[str, str]:
    """The asset identifiers asked for, for the audit log (no secret)."""
    return {k: v for k, v in query.model_dump().items() if v is not None}


def _width(text: str | None, most: int) -> int:
    if text is None:
        return most
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise web.HTTPBadRequest(reason="concurrency must be a number from 1 to 256")
    return min(int(text), most)


async def _answer(agent: Agent, query: AssetQuery, index: int = 0) -> Resolution:
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


# -- answers -------------------------------------------------------------------------------------


def _audit_resolution(audit: dict[str, Any], resolution: Resolution) -> None:
    credential = resolution.credential
    audit["outcome"] = resolution.outcome
    audit["entry"] = resolution.source
    if credential is not None:
        audit["secret"] = credential.reference
    elif resolution.error is not None:
        audit["reason"] = str(resolution.error)
    if resolution.cached:
        audit["cached"] = True


def _line(resolution: Resolution) -> dict[str, object]:
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


def _problem_response(body: Problem) -> web.Response:
    status = body["status"]
    assert isinstance(status, int)
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/problem+json",
    )


def _phrase(status: int) -> str:
    """A problem's title: the same for every occurrence of its type (RFC 9457 section 3.1.3)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def _slug(status: int) -> str:
    return {
        400: "bad-request",
        404: "no-such-route",
        405: "method-not-allowed",
        413: "too-large",
    }.get(status, "http-error")
