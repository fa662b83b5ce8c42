"""Request handling around the API: base path, counters, latency, faults, ``/_dev`` control."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from .api import Api, json_response
from .faults import Fault, FaultPlan, fault_from_json
from .wire import Request, Response

__all__ = ["BASE_PATH", "GRANT_TYPES", "App", "Stats"]

BASE_PATH = "/SecretServer"
GRANT_TYPES = ("password", "refresh_token", "client_credentials")
log = logging.getLogger("credchain.devserver")

_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Secret Server - Login</title></head>"
    b"<body><h1>Login</h1><form method='post'><input name='username'></form></body></html>"
)


class Stats:
    """Requests per ``"<METHOD> <route template>"``, token grants per grant type, and the
    requests ``--rate-limit`` answered 429, per account."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: Counter[str] = Counter()
            self._grants: Counter[str] = Counter(dict.fromkeys(GRANT_TYPES, 0))
            self._throttled: Counter[str] = Counter()

    def count_request(self, key: str) -> None:
        with self._lock:
            self._requests[key] += 1

    def count_grant(self, grant_type: str) -> None:
        with self._lock:
            self._grants[grant_type] += 1

    def count_throttled(self, account: str) -> None:
        with self._lock:
            self._throttled[account] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "grants": dict(self._grants),
                "throttled": dict(self._throttled),
            }


class App:
    """Turns a request into a response. Runs on the server's event loop."""

    def __init__(
        self,
        api: Api,
        faults: FaultPlan,
        stats: Stats,
        latency: float,
        control: Callable[[str, Request], Response | None],
    ) -> None:
        self.api, self.faults, self.stats, self.latency = api, faults, stats, latency
        self._control = control
        self._base = BASE_PATH.lower() + "/"

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        path = request.path
        if path.startswith("/_dev/"):
            response = self._control(path[len("/_dev/") :], request) or _not_found()
            return response
        route_key = f"{request.method} <unmatched>"
        response = _not_found()
        if path.lower().startswith(self._base):
            matched = self.api.match(request.method, path[len(self._base) :])
            if matched is not None:
                route, params = matched
                route_key = route.key
                self.stats.count_request(route_key)
                if self.latency:
                    await asyncio.sleep(self.latency)
                response = await self._respond(
                    route_key, request, lambda: self.api.dispatch(route, params, request)
                )
        if log.isEnabledFor(logging.INFO):
            # Route template and status only: query strings and bodies can hold secrets.
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %d %.1fms", route_key, response.status, elapsed)
        return response

    async def _respond(
        self, route_key: str, request: Request, normal: Callable[[], Response]
    ) -> Response:
        method, _, template = route_key.partition(" ")
        fault = self.faults.pick(method, template)
        if fault is None:
            return normal()
        log.warning("fault %s on %s", fault.kind, route_key)
        return await self._inject(fault, normal)

    async def _inject(self, fault: Fault, normal: Callable[[], Response]) -> Response:
        kind = fault.kind
        if kind == "reset":
            return Response(reset=True)
        if kind == "500":
            return json_response({"message": "An error has occurred."}, 500)
        if kind in ("503", "429"):
            headers = {"Retry-After": str(fault.retry_after)}
            message = "Too Many Requests" if kind == "429" else "Service Unavailable"
            return json_response({"message": message}, int(kind), **headers)
        if kind == "html":
            return Response(200, _HTML_PAGE, "text/html; charset=utf-8")
        if kind == "slow":
            await asyncio.sleep(fault.delay)
            return normal()
        if kind == "trickle":
            response = normal()
            response.trickle = fault.delay
            return response
        if kind == "revoke-tokens":
            self.api.tokens.revoke_all()
            return normal()
        if kind == "swap-cert":
            self._control("swap-cert", Request("POST", "/_dev/swap-cert", {}, {}))
            return normal()
        if kind == "body":
            return Response(fault.status, fault.body_bytes, fault.content_type)
        # truncated: the real answer, cut in half, with a Content-Length that matches the cut.
        response = normal()
        response.body = response.body[: max(1, len(response.body) // 2)]
        return response


def _not_found() -> Response:
    return json_response(
        {"message": "No HTTP resource was found that matches the request URI."}, 404
    )


def parse_faults_body(body: bytes) -> list[Fault]:
    """``POST /_dev/faults`` body: a list, or ``{"faults": [...]}``, of spec strings or objects."""
    value: Any = json.loads(body or b"[]")
    if isinstance(value, dict):
        value = value.get("faults", [])
    if not isinstance(value, list):
        raise TypeError("expected a list of faults")
    return [fault_from_json(item) for item in value]
