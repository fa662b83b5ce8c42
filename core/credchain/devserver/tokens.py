"""OAuth2 access and refresh tokens: opaque, random, in memory, expiring by an injected clock."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .store import User

__all__ = ["REFRESH_GRACE_SECONDS", "Grant", "TokenIssuer"]

#: A refresh token lives for the session timeout plus 15 minutes (reference section 1).
REFRESH_GRACE_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class Grant:
    access_token: str
    refresh_token: str | None
    expires_in: int

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


class TokenIssuer:
    """Issues tokens for users; each refresh token works once."""

    def __init__(self, ttl: int, refresh_tokens: bool, clock: Callable[[], float]) -> None:
        self.ttl, self.refresh_tokens, self._clock = ttl, refresh_tokens, clock
        self._lock = threading.Lock()
        self._access: dict[str, tuple[User, float]] = {}
        self._refresh: dict[str, tuple[User, float]] = {}

    def issue(self, user: User) -> Grant:
        now = self._clock()
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32) if self.refresh_tokens else None
        with self._lock:
            self._access[access] = (user, now + self.ttl)
            if refresh is not None:
                self._refresh[refresh] = (user, now + self.ttl + REFRESH_GRACE_SECONDS)
        return Grant(access, refresh, self.ttl)

    def user_for(self, access_token: str) -> User | None:
        """The token's user, or ``None`` when it is unknown, revoked or expired."""
        found = self._access.get(access_token)
        if found is None:
            return None
        if self._clock() >= found[1]:
            with self._lock:
                self._access.pop(access_token, None)
            return None
        return found[0]

    def redeem_refresh(self, refresh_token: str) -> User | None:
        """Consume a refresh token (once) and return its user, or ``None``."""
        with self._lock:
            found = self._refresh.pop(refresh_token, None)
        if found is None or self._clock() >= found[1]:
            return None
        return found[0]

    def expire(self, access_token: str) -> None:
        with self._lock:
            self._access.pop(access_token, None)

    def revoke_all(self) -> None:
        """Forget every access and refresh token, as a server restart would."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()
