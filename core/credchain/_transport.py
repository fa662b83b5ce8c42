"""``VaultHttp``'s plumbing under ``requests``: its adapter, retries, pools and deadline.

- ``VaultAdapter``: the TLS context of the ``TLSPolicy`` (and nothing of certifi), or a pin (with
  a context too when a client certificate is presented).
- ``CountingRetry``: urllib3's ``Retry`` that counts each new attempt and asks the running
  ``Budget`` first: a wait that would pass the deadline, or a ``Retry-After`` above the cap,
  ends the request at once (``GiveUp``). It reports each 429 or 503 it retries, or gives up
  on, as it comes (``on_throttled``: the signal a scan paces itself by, ``credchain.pacing``).
- The deadline. A read timeout bounds one socket read: a server sending a byte a second never
  trips it. So ``VaultHttp.request`` starts a ``Budget`` (``running``) and the pools
  (``POOL_CLASSES``) make connections whose connect timeout, and the timeout of each read of the
  status line, the headers and the body, is at most the time left.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "POOL_CLASSES",
    "Budget",
    "CountingRetry",
    "GiveUp",
    "VaultAdapter",
    "current",
    "running",
]


class GiveUp(Exception):
    """Raised inside urllib3's retry loop: no further attempt fits. The message says why."""


@dataclass(frozen=True, slots=True)
class Budget:
    """The time one request may take, and the longest ``Retry-After`` it waits for."""

    seconds: float
    retry_after_max: float
    #: ``time.monotonic()`` at the deadline
    ends: float

    @classmethod
    def start(cls, seconds: float, retry_after_max: float) -> Budget:
        return cls(seconds, retry_after_max, time.monotonic() + seconds)

    def left(self) -> float:
        return self.ends - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.left() <= 0

    def refusal(self, wait: float, retry_after: bool, status: int | None) -> str | None:
        """Why no attempt may follow a wait of ``wait`` seconds; ``None`` when one may.

        ``retry_after``: the server asked for the wait; ``status``: the answer that asked.
        """
        asked = f"answered HTTP {status} (Retry-After: {wait:g})" if retry_after else ""
        if retry_after and wait > self.retry_after_max:
            return f"{asked}, a longer wait than retry_after_max = {self.retry_after_max:g} s"
        if wait >= self.left():
            if retry_after:
                return f"{asked}: waiting would pass the {self.seconds:g} s deadline"
            return f"did not complete the request within the {self.seconds:g} s deadline"
        return None


_running: ContextVar[Budget | None] = ContextVar("credchain_http_budget", default=None)


@contextmanager
def running(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the one of the connections opened and the answers read in the block."""
    token = _running.set(budget)
    try:
        yield budget
    finally:
        _running.reset(token)


def current() -> Budget | None:
    return _running.get()


class _BoundedReader(io.RawIOBase):
    """A socket's reads, each given at most the read timeout and at most the time left."""

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, budget: Budget) -> None:
        super().__init__()
        self._raw, self._sock, self._budget = raw, sock, budget
        self._read_timeout = sock.gettimeout()  # what urllib3 set: the read timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        left = self._budget.left()
        if left <= 0:
            raise TimeoutError(f"the {self._budget.seconds:g} s deadline has passed")
        limit = self._read_timeout
        self._sock.settimeout(left if limit is None else min(limit, left))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _BoundedResponse(http.client.HTTPResponse):
    """``http.client``'s response, read through a ``_BoundedReader`` while a budget runs."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        budget = current()
        if budget is not None:
            # Nothing was read yet: the buffer can be rebuilt over a bounded reader.
            self.fp = io.BufferedReader(_BoundedReader(self.fp.detach(), sock, budget))


def _connect_timeout(timeout: float | None) -> float | None:
    budget = current()
    if budget is None:
        return timeout
    left = budget.left()
    if left <= 0:
        raise TimeoutError(f"the {budget.seconds:g} s deadline has passed")
    return left if timeout is None else min(timeout, left)


class _HTTPConnection(HTTPConnection):
    response_class = _BoundedResponse

    def connect(self) -> None:
        self.timeout = _connect_timeout(self.timeout)
        super().connect()


class _HTTPSConnection(HTTPSConnection):
    response_class = _BoundedResponse

    def connect(self) -> None:
        self.timeout = _connect_timeout(self.timeout)
        super().connect()


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


#: for ``PoolManager.pool_classes_by_scheme``
POOL_CLASSES: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


class CountingRetry(Retry):
    """urllib3's ``Retry`` that reports each attempt it is about to make again, and each
    429 or 503 answer it handles (the last one, when no retry is left, is the caller's)."""

    def __init__(
        self,
        *args: Any,
        on_retry: Callable[[], None] | None = None,
        on_throttled: Callable[[int], None] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.on_retry = on_retry
        self.on_throttled = on_throttled

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.on_retry = self.on_retry
        retry.on_throttled = self.on_throttled
        return retry

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        # Still here: an attempt is left (when none is, the caller gets this answer itself).
        if response is not None and response.status in (429, 503) and self.on_throttled:
            self.on_throttled(response.status)
        # Does the next attempt fit the request's budget?
        budget = current()
        if budget is not None:
            wait, asked = retry._wait_before_next(response)
            status = response.status if response is not None else None
            refusal = budget.refusal(wait, asked, status)
            if refusal is not None:
                if response is not None:
                    response.drain_conn()  # as urllib3 does before a retry: the pool keeps it
                raise GiveUp(refusal)
        if self.on_retry is not None:
            self.on_retry()
        return retry

    def _wait_before_next(self, response: BaseHTTPResponse | None) -> tuple[float, bool]:
        """What ``sleep`` will wait, and whether the server asked for it (``Retry-After``)."""
        if response is not None and self.respect_retry_after_header:
            try:
                asked = self.get_retry_after(response)
            except urllib3.exceptions.InvalidHeader:
                asked = None
            if asked:
                return asked, True
        return self.get_backoff_time(), False


class VaultAdapter(HTTPAdapter):
    """requests' adapter with credchain's TLS: a context of ours, or a pinned SHA-256 digest.

    With a context, that context alone decides what is trusted: requests would otherwise add
    certifi's bundle to it on every connection (``cert_verify``).
    """

    def __init__(
        self, *, context: ssl.SSLContext | None, fingerprint: str | None, **kwargs: Any
    ) -> None:
        self._context = context
        self._fingerprint = fingerprint
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._fingerprint is not None:
            kwargs["assert_fingerprint"] = self._fingerprint
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if self._context is None:
            # types-requests leaves this hook untyped
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
            return
        # A context with a pin only presents a client certificate: the digest is checked.
        conn.cert_reqs = "CERT_NONE" if self._fingerprint is not None else "CERT_REQUIRED"
        conn.ca_certs = conn.ca_cert_dir = None
