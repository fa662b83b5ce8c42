"""The one way credchain talks HTTP to a vault: TLS policy, pooling, timeouts, retries, errors.

``VaultHttp`` wraps one ``requests.Session`` per provider entry:

- TLS as its ``TLSPolicy`` says: the host's trust store (OpenSSL's default paths, never
  certifi's bundle: see ``credchain.tls``), a CA bundle, or a pinned SHA-256 fingerprint
  (urllib3's ``assert_fingerprint``; the chain is then not checked, the certificate is); and a
  client certificate presented to the vault if the policy has one (mutual TLS). Plain
  ``http`` is refused unless ``allow_http``. The session reads no environment
  (``trust_env = False``): ``REQUESTS_CA_BUNDLE`` and proxy variables cannot change the policy.
- A keep-alive pool sized for the resolver's concurrency; connect and read timeouts.
- A deadline for each request (``HttpSettings.deadline``): connecting, every read of the answer,
  retries and the waits between them all end by it, so a server that trickles a byte a second
  cannot hold a lookup (``credchain._transport``).
- urllib3 ``Retry`` with backoff: connection errors for any request (nothing was sent), read
  errors and 429/5xx for idempotent ones, honouring ``Retry-After`` up to ``retry_after_max``: a
  longer one, or a wait that would pass the deadline, ends the request at once (retrying before
  the server asked would only be refused again).
- Every HTTP attempt is counted in ``attempts``, urllib3's retries included, under the
  ``(entry, kind)`` the caller names: what a provider reports is what the vault received.
- Each 429 or 503 answer, and the time of each request that went through in one attempt, is
  reported to ``credchain.pacing`` under that entry: what a scan sizes its width by.
- At most ``max_body`` bytes of an answer are read (16 MiB by default; decoded size, so a
  compressed answer cannot expand past it): a larger one is an ``UnexpectedAnswer``, refused
  from its ``Content-Length`` when it has one, else once the cap is passed.
- Failures become credchain errors: ``TLSVerificationError`` (with the expected and presented
  fingerprints; or no TLS version in common, or no TLS at all; or the server refused our client
  certificate, or the lack of one, at the handshake), ``ProviderUnavailable``
  (unreachable, timed out, past the deadline, 5xx, cut short), ``UnexpectedAnswer`` (HTML,
  malformed JSON, over the size limit), ``ConfigError`` (settings out of range, an unusable
  ``ca_bundle``).
  Messages carry at most a short excerpt of an HTML page, never of a JSON body, which may hold
  secrets.
"""

from __future__ import annotations

import json
import math
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from credchain import _transport, pacing
from credchain.errors import (
    ClientCertificateRefused,
    ConfigError,
    ProviderUnavailable,
    TLSVerificationError,
    UnexpectedAnswer,
)
from credchain.tls import TLSPolicy, fetch_certificate, format_fingerprint

__all__ = ["AttemptKey", "Attempts", "HttpSettings", "VaultHttp", "json_body"]

#: the longest timeout, deadline or Retry-After wait HttpSettings takes
MAX_SECONDS = 300.0
#: the longest origin taken
MAX_ORIGIN = 2048
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: OpenSSL's reasons for a handshake that found no TLS version both sides accept
_VERSION_REASONS = frozenset(
    {
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
        "NO_PROTOCOLS_AVAILABLE",
        "UNSUPPORTED_SSL_VERSION",
        "VERSION_TOO_LOW",
        "VERSION_TOO_HIGH",
    }
)
#: OpenSSL's reasons for an alert the server sent about our certificate: it refused the client
_CLIENT_REFUSED = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_ALERT_ACCESS_DENIED",
        "TLSV1_ALERT_DECRYPT_ERROR",
    }
)
_CHUNK = 64 * 1024
_MISMATCH = re.compile(r'Expected "?([0-9a-fA-F:]+)"?, got "?([0-9a-fA-F:]+)"?')


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Connection behaviour for one vault."""

    connect_timeout: float = 5.0
    #: the longest wait for one read of the answer
    read_timeout: float = 30.0
    #: the longest one request may take, retries, reads and waits included
    deadline: float = 30.0
    #: the longest ``Retry-After`` waited for; a longer one gives up at once
    retry_after_max: float = 5.0
    #: the most bytes of an answer read (decoded); a Secret Server answer is a few kB
    max_body: int = 16 * 1024 * 1024
    pool_size: int = 16
    retries: int = 3
    backoff: float = 0.2
    allow_http: bool = False

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "deadline", "retry_after_max"):
            value = getattr(self, name)
            low_ok = value >= 0 if name == "retry_after_max" else value > 0
            if not (math.isfinite(value) and low_ok and value <= MAX_SECONDS):
                raise ConfigError(
                    f"must be a finite number of seconds, at most {MAX_SECONDS:g}", key=name
                )
        if self.max_body < 1:
            raise ConfigError("must be at least 1 byte", key="max_body")


#: who an attempt is counted for: (chain entry, kind of request such as "search" or "token")
AttemptKey = tuple[str, str]


class _Request:
    """The request being sent: who its attempts are counted for, and whether one was retried."""

    __slots__ = ("key", "retried")

    def __init__(self, key: AttemptKey) -> None:
        self.key = key
        self.retried = False


_counting: ContextVar[_Request | None] = ContextVar("credchain_http_counting", default=None)


class Attempts:
    """HTTP attempts sent, by ``(entry, kind)``; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[AttemptKey] = Counter()

    def add(self, key: AttemptKey) -> None:
        with self._lock:
            self._counts[key] += 1

    def by_kind(self, entry: str | None = None) -> dict[str, int]:
        """Attempts by kind, for one entry or (``None``) for all."""
        totals: Counter[str] = Counter()
        with self._lock:
            for (who, kind), count in self._counts.items():
                if entry is None or who == entry:
                    totals[kind] += count
        return dict(totals)


class VaultHttp:
    """HTTP to one vault origin with credchain's TLS, pooling, retry and error rules."""

    def __init__(self, origin: str, tls: TLSPolicy, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        if len(origin) > MAX_ORIGIN:
            raise ConfigError(f"the vault URL is longer than {MAX_ORIGIN} characters")
        parts = urlsplit(origin)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"{origin!r} is not an http(s) URL")
        if parts.scheme == "http" and not self.settings.allow_http:
            raise ConfigError(
                f"{origin!r} is plain http: credentials would cross the network unencrypted "
                "(use https, or set allow_http = true for a lab)"
            )
        self.origin = origin.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.tls = tls
        #: every HTTP attempt sent, retries included (see ``request``'s ``count_as``)
        self.attempts = Attempts()
        self.session = self._session()

    def _count_retry(self) -> None:
        sending = _counting.get()
        if sending is not None:
            sending.retried = True
            self.attempts.add(sending.key)

    @staticmethod
    def _throttled(status: int) -> None:
        sending = _counting.get()
        if sending is not None:
            pacing.throttled(sending.key[0], status)

    def _session(self) -> requests.Session:
        s = self.settings
        retry = _transport.CountingRetry(
            total=s.retries,
            connect=s.retries,
            read=s.retries,
            status=s.retries,
            other=0,
            backoff_factor=s.backoff,
            status_forcelist=_RETRY_STATUSES,
            respect_retry_after_header=True,
            raise_on_status=False,
            on_retry=self._count_retry,
            on_throttled=self._throttled,
        )
        session = requests.Session()
        session.trust_env = False  # proxies and REQUESTS_CA_BUNDLE must not override the policy
        session.headers.update({"Accept": "application/json", "User-Agent": "credchain"})
        pinned = self.tls.fingerprint_sha256
        adapter = _transport.VaultAdapter(
            context=self.tls.ssl_context(),
            fingerprint=pinned,
            pool_maxsize=s.pool_size,
            max_retries=retry,
        )
        # With a pin, urllib3 checks the certificate's digest instead of the chain.
        session.verify = pinned is None
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: object = None,
        headers: Mapping[str, str] | None = None,
        count_as: AttemptKey = ("", "other"),
    ) -> requests.Response:
        """Send one request; connection, TLS and 5xx failures raise credchain errors.

        Each attempt, urllib3's retries included, is counted in ``attempts`` under ``count_as``.
        """
        s = self.settings
        self.attempts.add(count_as)
        sending = _Request(count_as)
        counting = _counting.set(sending)
        started = time.perf_counter()
        budget = _transport.current() or _transport.Budget.start(s.deadline, s.retry_after_max)
        try:
            with _transport.running(budget):
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    json=json_body,
                    headers=headers,
                    timeout=(min(s.connect_timeout, s.deadline), min(s.read_timeout, s.deadline)),
                    allow_redirects=False,
                    stream=True,  # read below, still within the deadline
                )
                self._read_body(response)
        except _transport.GiveUp as exc:
            raise ProviderUnavailable(f"{self.origin} {exc}") from None
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(exc) from None
        except requests.exceptions.Timeout:
            raise self._timed_out(budget) from None
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise ProviderUnavailable(
                f"{self.origin} broke off its answer ({_reason(exc)})"
            ) from None
        except requests.exceptions.RetryError as exc:
            raise ProviderUnavailable(
                f"{self.origin} kept failing after {s.retries} retries ({_reason(exc)})"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            inner = _innermost(exc)
            # urllib3's NewConnectionError (refused, no route) subclasses its timeout error
            if isinstance(inner, urllib3.exceptions.TimeoutError | TimeoutError) and not isinstance(
                inner, urllib3.exceptions.NewConnectionError
            ):
                raise self._timed_out(budget) from None
            raise ProviderUnavailable(f"cannot reach {self.origin}: {_reason(exc)}") from None
        finally:
            _counting.reset(counting)
        status = response.status_code
        if status in pacing.CONGESTED:
            pacing.throttled(count_as[0], status)
        elif not sending.retried and status < 500:
            pacing.answered(count_as[0], time.perf_counter() - started)
        if response.status_code >= 500 or response.status_code == 429:
            retry_after = response.headers.get("Retry-After")
            raise ProviderUnavailable(
                f"{self.origin} answered HTTP {response.status_code}"
                + (f" (Retry-After: {retry_after})" if retry_after else "")
            )
        return response

    def _read_body(self, response: requests.Response) -> None:
        """Read the whole body now, within the running deadline and ``max_body``."""
        cap = self.settings.max_body
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise self._too_big(response)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise self._too_big(response)
                chunks.append(chunk)
        except BaseException:
            response.close()  # the connection is in an unknown state: not back to the pool
            raise
        # What requests' own reading would have stored: .content, .text and .json() use it.
        response._content = b"".join(chunks)

    def _too_big(self, response: requests.Response) -> UnexpectedAnswer:
        # Nothing of the body: it may hold secrets.
        return UnexpectedAnswer(
            f"{self.origin} sent an answer over the {_size(self.settings.max_body)} size limit "
            f"(HTTP {response.status_code})"
        )

    @contextmanager
    def deadline(self) -> Iterator[None]:
        """Run the requests of the block (a whole lookup) within one ``deadline``.

        Inside it, a request gets the time left of the block, not a deadline of its own; an
        enclosing block's deadline (another entry's) is kept.
        """
        if _transport.current() is not None:
            yield
            return
        s = self.settings
        with _transport.running(_transport.Budget.start(s.deadline, s.retry_after_max)):
            yield

    def _timed_out(self, budget: _transport.Budget) -> ProviderUnavailable:
        if budget.passed:
            return ProviderUnavailable(
                f"{self.origin} did not complete the request within the {budget.seconds:g} s "
                "deadline"
            )
        return ProviderUnavailable(
            f"{self.origin} did not answer within {self.settings.read_timeout:g} s"
        )

    def _tls_error(self, exc: requests.exceptions.SSLError) -> TLSVerificationError:
        reason = getattr(_innermost(exc), "reason", None)
        if reason in _VERSION_REASONS:
            return TLSVerificationError(
                f"{self.origin} and credchain share no TLS version: credchain requires TLS 1.2 "
                f"or later, and the server does not offer it ({reason}); enable TLS 1.2 or 1.3 "
                "on the server"
            )
        if reason in _CLIENT_REFUSED:
            return self._client_refused(str(reason))
        if reason == "UNEXPECTED_EOF_WHILE_READING":
            # A server may refuse a client certificate (or its absence) by just hanging up.
            return self._client_refused(str(reason), hung_up=True)
        if reason == "WRONG_VERSION_NUMBER":
            return TLSVerificationError(
                f"{self.origin} does not speak TLS on port {self.port} (its answer is no TLS "
                "handshake): check the port, or whether the server serves plain http"
            )
        text = str(exc)
        expected = self.tls.fingerprint_sha256
        match = _MISMATCH.search(text)
        if match:
            presented: str | None = match.group(2)
        else:
            presented = self.presented_fingerprint()
        shown = format_fingerprint(presented) if presented else "unknown"
        if expected is not None:
            return TLSVerificationError(
                f"{self.origin} presented a certificate with SHA-256 fingerprint {shown}, "
                f"not the pinned {format_fingerprint(expected)}",
                expected=expected,
                presented=presented,
            )
        return TLSVerificationError(
            f"the certificate of {self.origin} failed verification against the "
            f"{self.tls.describe()} ({_reason(exc)}); it presents SHA-256 fingerprint {shown}: "
            "set ca_bundle to your CA, or set verify_ssl = false and pin that fingerprint after "
            "checking it",
            presented=presented,
        )

    def _client_refused(self, reason: str, *, hung_up: bool = False) -> ClientCertificateRefused:
        client = self.tls.client_certificate
        refused = "ended the TLS handshake" if hung_up else "refused the TLS handshake"
        likely = "probably " if hung_up else ""
        if client is None:
            return ClientCertificateRefused(
                f"{self.origin} {refused} ({reason}): it {likely}requires a client certificate "
                "and credchain presented none; set client_cert and client_key"
            )
        return ClientCertificateRefused(
            f"{self.origin} {refused} ({reason}): it {likely}does not accept the client "
            f"certificate {client.cert}; is it issued by a CA the server trusts, current, and "
            "meant for client authentication?"
        )

    def presented_fingerprint(self) -> str | None:
        """The SHA-256 fingerprint of the certificate the server presents now, if reachable."""
        try:
            return fetch_certificate(self.host, self.port, self.settings.connect_timeout).sha256
        except (OSError, ssl.SSLError, ValueError):
            return None


def json_body(response: requests.Response, what: str) -> Any:
    """The response's JSON, or ``ProviderUnavailable`` saying what came instead."""
    content_type = response.headers.get("Content-Type", "")
    try:
        return response.json()
    except (json.JSONDecodeError, requests.exceptions.JSONDecodeError, UnicodeDecodeError):
        pass
    size = f"HTTP {response.status_code}, {len(response.content)} bytes"
    if "html" in content_type.lower() or response.text.lstrip()[:1] == "<":
        title = _html_excerpt(response.text)
        # Only the title: any other text of the page may be a JSON body holding a secret.
        titled = f" titled {title!r}" if title else ""
        raise UnexpectedAnswer(f"{what}: expected JSON, got an HTML page ({size}){titled}")
    raise UnexpectedAnswer(f"{what}: malformed JSON ({size})")


def _size(count: int) -> str:
    """``count`` bytes as people read it: ``16 MiB``, ``64 KiB``, ``1000 bytes``."""
    for unit, name in ((1024 * 1024, "MiB"), (1024, "KiB")):
        if count >= unit and count % unit == 0:
            return f"{count // unit} {name}"
    return f"{count} bytes"


def _html_excerpt(text: str, limit: int = 80) -> str:
    """A page's title, tags removed, cut at ``limit`` characters; ``""`` without one."""
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title is None:
        return ""
    compact = " ".join(re.sub(r"<[^>]+>", " ", title.group(1)).split())
    return compact[:limit] + ("…" if len(compact) > limit else "")


def _innermost(exc: BaseException) -> BaseException:
    """The innermost cause of a requests/urllib3 error (they nest in args and ``reason``)."""
    cause: BaseException = exc
    while True:
        inner = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        reason = getattr(cause, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else inner
        if nxt is None or nxt is cause:
            break
        cause = nxt
    return cause


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, without the URL's query string."""
    cause = _innermost(exc)
    text = str(cause) or type(cause).__name__
    return re.sub(r"\?[^\s'\"]*", "?…", text)[:200]
