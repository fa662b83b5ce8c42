"""Fault injection, selected by route with a count or a rate.

Spec syntax (CLI ``--fault``, ``POST /_dev/faults``, ``DevServer.add_fault``)::

    KIND:ROUTE[:OPTION=VALUE[,OPTION=VALUE...]]

KIND is one of ``FAULT_KINDS``. ROUTE is a glob over the route template, with or without the
method: ``api/v1/secrets``, ``GET api/v1/secrets/{id}``, ``oauth2/token``, ``api/v1/secrets*``,
``*``. Options: ``count=N`` (the next N matching requests, then the fault disarms), ``rate=R``
(each matching request with probability R, 0..1), ``delay=S`` (seconds: for ``slow`` the wait,
default 2; for ``trickle`` the pause after each byte, default 1), ``retry_after=S`` (for ``429``
and ``503``; default 1); for ``body``: ``status=N`` (default 200), ``content_type=T`` (default
JSON) and ``body=TEXT``, which must come last and takes the rest of the spec verbatim, commas
included. Without count or rate a fault fires on every matching request until cleared.
"""

from __future__ import annotations

import base64
import binascii
import math
import random
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["FAULT_KINDS", "Fault", "FaultPlan", "parse_fault"]

#: reset: TCP reset, no response. 500/503/429: that status (429/503 with Retry-After).
#: html: an HTML page with status 200. truncated: 200 with JSON cut in half.
#: slow: the normal response after ``delay`` seconds. revoke-tokens / swap-cert: perform that
#: action, then answer normally (so the request that triggers revoke-tokens already gets 401).
#: trickle: the normal response, status line and headers included, one byte per ``delay`` seconds.
#: body: answer with ``status``, ``content_type`` and ``body`` as given (fuzzing the client).
FAULT_KINDS = (
    "reset",
    "500",
    "503",
    "429",
    "html",
    "truncated",
    "slow",
    "revoke-tokens",
    "swap-cert",
    "trickle",
    "body",
)
#: ``delay`` when none is given, by kind
_DEFAULT_DELAY = {"trickle": 1.0}

#: statuses that carry no body in HTTP/1.1: one sent anyway would corrupt a keep-alive stream
_BODILESS = frozenset({204, 304})
_BODY_OPTION = re.compile(r"(?:^|,)\s*body=")


@dataclass(slots=True)
class Fault:
    kind: str
    route: str = "*"
    count: int | None = None
    rate: float | None = None
    delay: float = math.nan  # not given: the kind's default (``_DEFAULT_DELAY``, else 2)
    retry_after: int = 1
    #: for ``body``: the status, Content-Type and body to answer with (text is sent as UTF-8)
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    body: str | bytes = ""

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if math.isnan(self.delay):
            self.delay = _DEFAULT_DELAY.get(self.kind, 2.0)
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.count is not None and self.rate is not None:
            raise ValueError("give count or rate, not both")
        if self.delay < 0 or self.retry_after < 0:
            raise ValueError("delay and retry_after must not be negative")
        if not isinstance(self.status, int) or not 200 <= self.status <= 599:
            raise ValueError("status must be an HTTP status from 200 to 599")
        if self.status in _BODILESS:
            raise ValueError(f"status {self.status} carries no body in HTTP/1.1")
        if not (
            isinstance(self.content_type, str)
            and self.content_type.isascii()
            and self.content_type.isprintable()
        ):
            raise ValueError("content_type must be printable ASCII (one header line)")
        if isinstance(self.body, str):
            try:
                self.body.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("a text body must be encodable as UTF-8 (or give bytes)") from None
        elif not isinstance(self.body, bytes):
            raise ValueError("body must be text or bytes")

    def matches(self, method: str, route: str) -> bool:
        return fnmatchcase(route, self.route) or fnmatchcase(f"{method} {route}", self.route)

    @property
    def body_bytes(self) -> bytes:
        """The body as sent: text as UTF-8, bytes as they are."""
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body

    def as_json(self) -> dict[str, Any]:
        """The fault as ``fault_from_json`` reads it back: a bytes body as ``body_base64``."""
        value = asdict(self)
        if isinstance(self.body, bytes):
            value["body_base64"] = base64.b64encode(value.pop("body")).decode("ascii")
        return value


def parse_fault(spec: str) -> Fault:
    """Parse ``KIND:ROUTE[:OPTIONS]``; raises ``ValueError`` with a readable message."""
    kind, _, rest = spec.strip().partition(":")
    route, _, options = rest.partition(":")
    values: dict[str, Any] = {"kind": kind, "route": route or "*"}
    body = _BODY_OPTION.search(options)
    if body is not None:
        options, values["body"] = options[: body.start()], options[body.end() :]
    converters: dict[str, Callable[[str], Any]] = {
        "count": int,
        "rate": float,
        "delay": float,
        "retry_after": int,
        "status": int,
        "content_type": str,
    }
    for option in filter(None, (o.strip() for o in options.split(","))):
        key, sep, value = option.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in converters:
            raise ValueError(
                f"bad fault option {option!r} in {spec!r}; expected {[*converters, 'body']}"
            )
        try:
            values[key] = converters[key](value.strip())
        except ValueError:
            raise ValueError(f"bad value for {key} in {spec!r}") from None
    return Fault(**values)


def fault_from_json(value: object) -> Fault:
    """A fault from a spec string or a JSON object with the ``Fault`` fields."""
    if isinstance(value, str):
        return parse_fault(value)
    if isinstance(value, dict):
        fields = {str(k).replace("-", "_"): v for k, v in value.items()}
        if "body_base64" in fields:
            if "body" in fields:
                raise ValueError("give body or body_base64, not both")
            try:
                fields["body"] = base64.b64decode(str(fields.pop("body_base64")), validate=True)
            except binascii.Error:
                raise ValueError("body_base64 is not base64") from None
        return Fault(**fields)
    raise ValueError("a fault is a spec string or an object")


class FaultPlan:
    """The armed faults, in the order added; the first one that fires wins."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        # Fault rates need no cryptographic randomness; a seeded Random makes tests repeatable.
        self._rng = rng or random.Random()  # noqa: S311

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def armed(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def pick(self, method: str, route: str) -> Fault | None:
        """The fault to apply to this request, if any (consumes one unit of a counted fault)."""
        if not self._faults:  # the common case, without taking the lock
            return None
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, route):
                    continue
                if fault.rate is not None and self._rng.random() >= fault.rate:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                return fault
        return None
