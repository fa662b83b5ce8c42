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

from credchain.agent.answers import answer, audit_resolution, read_query
from credchain.agent.callers import Caller, caller_of
from credchain.agent.many import stream_answers
from credchain.agent.openapi import OPENAPI
from credchain.agent.problems import Problem, problem, problem_of
from credchain.agent.service import Agent, Generation
from credchain.agent.settings import token_matches
from credchain.errors import ConfigError, CredchainError, QueryError

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
        metrics.started()
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
                    audit.setdefault("event", "rejected")
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
            metrics.ended()
        seconds = time.perf_counter() - started
        metrics.answered(name, response.status, seconds)
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
        query = read_query(await _body(request), audit)
        resolution = await answer(agent, query)
        audit_resolution(audit, resolution)
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
        query = read_query(await _body(request), audit)
        loop = asyncio.get_running_loop()
        generation = agent.acquire()
        try:
            trace = await loop.run_in_executor(agent.pool, generation.resolver.explain, query)
        finally:
            agent.release(generation)
        audit["outcome"] = trace.outcome
        return web.json_response(trace.to_dict())

    async def resolve_many(request: web.Request) -> web.StreamResponse:
        width = _width(request.query.get("concurrency"), agent.current.settings.max_concurrency)
        response = web.StreamResponse(headers={"Content-Type": _NDJSON})
        await response.prepare(request)
        await stream_answers(
            agent,
            request.content,
            response,
            width=width,
            max_line=MAX_LINE,
            caller=request["caller"].to_audit(),
            route=f"{request.method} {request.path}",
        )
        await response.write_eof()
        return response

    async def health(request: web.Request) -> web.StreamResponse:
        request["audit"].update(event="health", outcome="ok")
        return web.json_response(agent.health())

    async def reload(request: web.Request) -> web.StreamResponse:
        audit = request["audit"]
        audit["event"] = "reload"
        try:
            answer = await agent.reload("POST /v1/reload")
        except ConfigError as exc:
            audit.update(outcome="refused", reason=str(exc))
            return _problem_response(problem_of(exc))
        audit["outcome"] = "ok"
        if answer["restart_needed"]:
            audit["reason"] = f"restart to apply {', '.join(answer['restart_needed'])}"
        return web.json_response(answer)

    async def openapi(request: web.Request) -> web.StreamResponse:
        request["audit"].update(event="openapi", outcome="ok")
        return web.json_response(OPENAPI)

    async def metrics(request: web.Request) -> web.StreamResponse:
        request["audit"].update(event="metrics", outcome="ok")
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
    try:
        connection = known.get(transport)
    except TypeError:  # uvloop's TLS transport cannot be weakly referenced: asked per request
        return _Connection(_caller(transport))
    if connection is None:
        connection = known[transport] = _Connection(_caller(transport))
    return connection


def _caller(transport: asyncio.BaseTransport) -> Caller:
    sock = transport.get_extra_info("socket")
    return caller_of(sock) if sock is not None else Caller()


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


def _width(text: str | None, most: int) -> int:
    if text is None:
        return most
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise web.HTTPBadRequest(reason="concurrency must be a number from 1 to 256")
    return min(int(text), most)


# -- answers -------------------------------------------------------------------------------------


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
