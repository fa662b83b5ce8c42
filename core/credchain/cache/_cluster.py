"""What processes share through a ``Cache``: a vault account's token, and the chain's answers.

- ``SharedTokens``: one grant (or refresh) per vault account per token lifetime, for every
  process of the backend. ``TokenKeeper`` asks it for a token newer than the one it has; it
  returns one another process stored, or makes one under the account's lease and stores it
  until the token expires.
- ``SharedAnswers``: one walk of the chain per asset for every process. A found credential is
  stored for the scan's ``cache_ttl``, a "not found" for its ``negative_ttl``; a "not found"
  that is not to be cached is still handed, for a second, to the processes that waited for it.
  Failures are never shared: each waiting process tries for itself.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from credchain.cache._shared import Cache
from credchain.errors import CredchainError, CredentialNotFound
from credchain.models import AssetQuery, SafeCredential
from credchain.tokens import AccessToken
from credchain.trace import Trace, TraceStep

__all__ = ["SharedAnswers", "SharedTokens"]

_VERSION = 1
#: how long a leader's uncacheable "not found" is handed to the processes that waited for it
_TRANSIENT = 1.0

Answer = tuple[SafeCredential | None, CredchainError | None, Trace | None]
Walk = Callable[[AssetQuery], Answer]


class SharedTokens:
    """The token of one vault account (``identity``: who logs in where, no secret)."""

    __slots__ = ("_cache", "_clock", "_material")

    def __init__(
        self, cache: Cache, identity: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._cache = cache
        self._material = identity.encode()
        self._clock = clock

    def current(self) -> AccessToken | None:
        """The token a process stored, if there is one still fresh."""
        plain = self._cache.get("token", self._material)
        return None if plain is None else self._fresh(plain, None)

    def obtain(self, stale: AccessToken | None, make: Callable[[], AccessToken]) -> AccessToken:
        """A fresh token other than ``stale``: another process's, or ``make()``'s under the
        account's lease (then stored for them)."""
        found, lease = self._cache.claim(
            "token", self._material, lambda plain, _waited: self._fresh(plain, stale)
        )
        if found is not None:
            return found
        try:
            token = make()
            self.store(token)
        finally:
            lease.release()
        return token

    def store(self, token: AccessToken) -> None:
        payload = {
            "v": _VERSION,
            "token": token.value,
            "expires_at": token.expires_at,
            "renew_at": token.renew_at,
            "refresh_token": token.refresh_token,
        }
        ttl = token.expires_at - self._clock()
        self._cache.put("token", self._material, json.dumps(payload).encode(), ttl)

    def _fresh(self, plain: bytes, stale: AccessToken | None) -> AccessToken | None:
        try:
            data = json.loads(plain)
            token = AccessToken(
                value=_text(data["token"]),
                expires_at=_number(data["expires_at"]),
                renew_at=_number(data["renew_at"]),
                refresh_token=None
                if data["refresh_token"] is None
                else _text(data["refresh_token"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if self._clock() >= token.renew_at:
            return None
        if stale is not None and token.value == stale.value:
            return None
        return token


class SharedAnswers:
    """The chain's answers, shared by every process whose config has the same ``namespace``."""

    __slots__ = ("_cache", "_namespace")

    def __init__(self, cache: Cache, namespace: bytes) -> None:
        self._cache = cache
        self._namespace = namespace

    def answer(
        self, query: AssetQuery, walk: Walk, ttl: Callable[[Answer], float | None]
    ) -> tuple[Answer, bool]:
        """``(the answer, whether another process's)``: stored, waited for, or walked here."""
        material = self._namespace + b"\0" + _query_bytes(query)
        found, lease = self._cache.claim("answer", material, _decode)
        if found is not None:
            return found, True
        try:
            answer = walk(query)
            keep = ttl(answer)
            encoded = _encode(answer, transient=not keep)
            if encoded is not None and lease.held:
                self._cache.put("answer", material, encoded, keep or _TRANSIENT)
        finally:
            lease.release()
        return answer, False


def _query_bytes(query: AssetQuery) -> bytes:
    data = {**query.to_query_data(), "domain": query.domain}
    return json.dumps(data, sort_keys=True).encode()


def _encode(answer: Answer, *, transient: bool) -> bytes | None:
    credential, error, trace = answer
    body: dict[str, Any] = {"v": _VERSION, "transient": transient}
    if trace is not None:
        body["trace"] = trace.to_dict()
    if credential is not None:
        body["credential"] = {
            "username": credential.username,
            "password": credential.password.get_secret_value(),
            "privilege_password": (
                None
                if credential.privilege_password is None
                else credential.privilege_password.get_secret_value()
            ),
            "source": credential.source,
            "detail": credential.detail,
            "reference": credential.reference,
        }
    elif isinstance(error, CredentialNotFound):
        body["not_found"] = str(error)
    else:
        return None  # a failure is never shared
    return json.dumps(body).encode()


def _decode(plain: bytes, waited: bool) -> Answer | None:
    """A stored answer; None if it is not ours to take (transient and we did not wait)."""
    try:
        body = json.loads(plain)
        if body.get("v") != _VERSION or (body.get("transient") and not waited):
            return None
        trace = _trace(body["trace"]) if "trace" in body else None
        if "credential" in body:
            c = body["credential"]
            privilege = c.get("privilege_password")
            credential = SafeCredential(
                username=c["username"],
                password=SecretStr(_text(c["password"])),
                privilege_password=None if privilege is None else SecretStr(_text(privilege)),
                source=c.get("source") or "",
                detail=c.get("detail"),
                reference=c.get("reference"),
            )
            return credential, None, trace
        error = CredentialNotFound(_text(body["not_found"]), trace=trace)
        return None, error, trace
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # not what we write: a miss


def _trace(data: Any) -> Trace:
    query = data["query"]
    if not isinstance(query, dict):
        raise TypeError("not a trace")
    steps = [
        TraceStep(
            entry=_text(s["entry"]),
            type=_text(s["type"]),
            outcome=s["outcome"],
            reason=str(s["reason"]),
            elapsed_ms=_number(s["elapsed_ms"]),
        )
        for s in data["steps"]
    ]
    return Trace(
        query={str(k): None if v is None else str(v) for k, v in query.items()}, steps=steps
    )


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not text")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a finite number")
    return float(value)
