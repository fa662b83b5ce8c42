"""One access token per vault, shared by every lookup and thread, renewed before it expires.

``TokenKeeper.get()`` returns the current token while it is fresh; past its renewal time one
thread renews it (refresh token first, when the vault gave one) while the others wait for that
result, so there is never more than one grant in flight. ``invalidate(token)`` is for a token
the vault refused (401): the next ``get()`` makes a new grant, skipping the refresh token, which
was most likely revoked with it. ``renew()`` makes a new grant whatever the current token is.
``on_new_token`` is told of every token obtained (a disk cache stores it there); ``seed``
starts from a token obtained elsewhere. With a ``share`` (``credchain.cache.SharedTokens``)
the renewal itself is shared with other processes: it returns a token another process obtained,
or runs this keeper's refresh-or-grant under a cluster-wide lock (counted as ``shared``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from credchain.errors import ProviderError

__all__ = ["AccessToken", "TokenGrant", "TokenKeeper", "TokenShare"]


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a vault's token endpoint answered."""

    access_token: str = field(repr=False)
    expires_in: float
    refresh_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A token and when to renew it (``renew_at``, wall-clock seconds)."""

    value: str = field(repr=False)
    expires_at: float
    renew_at: float
    refresh_token: str | None = field(default=None, repr=False)

    @property
    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.value}"}


class TokenShare(Protocol):
    """Where processes share a vault account's token (``credchain.cache.SharedTokens``)."""

    def obtain(self, stale: AccessToken | None, make: Callable[[], AccessToken]) -> AccessToken:
        """A fresh token other than ``stale``: another process's, or ``make()``'s."""
        ...

    def store(self, token: AccessToken) -> None: ...


class TokenKeeper:
    """Keeps one token fresh for many threads; see the module docstring."""

    def __init__(
        self,
        grant: Callable[[], TokenGrant],
        refresh: Callable[[str], TokenGrant] | None = None,
        *,
        margin: float = 60.0,
        clock: Callable[[], float] = time.time,
        on_new_token: Callable[[AccessToken], None] | None = None,
        share: TokenShare | None = None,
    ) -> None:
        self._grant = grant
        self._share = share
        #: the token last refused or replaced, which a shared one must differ from
        self._stale: AccessToken | None = None
        self._on_new_token = on_new_token
        self._refresh = refresh
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self._refused = False
        #: how many tokens were obtained, by grant kind (for tests and the summary)
        self.counts = {"grant": 0, "refresh": 0, "shared": 0}

    def _make(self, grant: TokenGrant) -> AccessToken:
        now = self._clock()
        # Renew a little early, but never so early that a short-lived token is never reused.
        early = min(self._margin, grant.expires_in / 10)
        return AccessToken(
            value=grant.access_token,
            expires_at=now + grant.expires_in,
            renew_at=now + grant.expires_in - early,
            refresh_token=grant.refresh_token,
        )

    def _fresh(self, token: AccessToken | None) -> bool:
        return token is not None and self._clock() < token.renew_at

    def get(self) -> AccessToken:
        """The current token, renewed first if it is due."""
        token = self._token
        if self._fresh(token):
            assert token is not None
            return token
        with self._lock:
            token = self._token
            if self._fresh(token):
                assert token is not None
                return token
            return self._obtain(token)

    def renew(self) -> AccessToken:
        """A newly granted token, whatever the current one is (a login check)."""
        with self._lock:
            self._refused = True
            token = self._new(None)
            if self._share is not None:
                self._share.store(token)
            return self._adopt(token)

    def _obtain(self, token: AccessToken | None) -> AccessToken:
        """Refresh ``token`` or make a grant, or take the share's; the caller holds the lock."""
        if self._share is None:
            return self._adopt(self._new(token))
        made: list[AccessToken] = []

        def make() -> AccessToken:
            made.append(self._new(token))
            return made[0]

        shared = self._share.obtain(token or self._stale, make)
        if not made:
            self.counts["shared"] += 1
        return self._adopt(shared)

    def _new(self, token: AccessToken | None) -> AccessToken:
        """A refreshed ``token``, or a new grant."""
        renewed: TokenGrant | None = None
        if token is not None and token.refresh_token and self._refresh and not self._refused:
            try:
                renewed = self._refresh(token.refresh_token)
                self.counts["refresh"] += 1
            except ProviderError:
                renewed = None  # refresh tokens work once and may lapse: log in again
        if renewed is None:
            renewed = self._grant()
            self.counts["grant"] += 1
        return self._make(renewed)

    def _adopt(self, token: AccessToken) -> AccessToken:
        self._token = token
        self._refused = False
        self._stale = None
        if self._on_new_token is not None:
            self._on_new_token(token)
        return token

    def seed(self, token: AccessToken) -> None:
        """Start from a token obtained elsewhere (a cache); ignored once stale."""
        with self._lock:
            if self._token is None:
                self._token = token

    @property
    def current(self) -> AccessToken | None:
        return self._token

    def invalidate(self, token: AccessToken) -> bool:
        """The vault refused ``token``: drop it, unless another thread already replaced it.

        Returns whether it was dropped.
        """
        with self._lock:
            if self._token is not None and self._token.value == token.value:
                self._stale, self._token = self._token, None
                self._refused = True
                return True
            return False
