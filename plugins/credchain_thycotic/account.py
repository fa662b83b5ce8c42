"""One vault account per process: the HTTP session, the token and the token cache it shares.

Chain entries that log in to the same Secret Server as the same account (a ``thycotic`` entry and
a ``domain-fallback`` entry on its connection, two resolvers of one scanner) share one
``VaultAccount``: one keep-alive pool, one token, one grant per token lifetime. Accounts are
kept by ``acquire``/``release`` with a count of users; the last ``release`` closes the session.

With a shared cache (``[cache] backend = "file"`` or ``"redis"``) the token is shared with the
other processes of the host or the cluster instead of the token file: one grant per account per
token lifetime for all of them (``credchain.cache.SharedTokens``).

The account is known by what its login and its connections depend on: the token URL, the grant,
the account name and domain, a digest of its secret, the TLS policy, the HTTP settings, the
token margin, the token cache (its directory, or the shared cache) and the clock.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from credchain.cache import Cache, SharedTokens, TokenCache, token_identity
from credchain.errors import LoginRefused, UnexpectedAnswer, WrongEndpoint
from credchain.http import HttpSettings, VaultHttp
from credchain.tokens import AccessToken, TokenGrant, TokenKeeper
from credchain_thycotic.answers import TokenAnswer, checked, json_answer, text_or_none

if TYPE_CHECKING:
    from credchain_thycotic.settings import ThycoticSettings

__all__ = ["VaultAccount", "acquire", "acting_for", "release"]

#: a token's lifetime when the vault does not say (``expires_in`` is optional in OAuth 2)
_DEFAULT_LIFETIME = 300.0
#: the chain entry a token grant is counted for (the one whose call needed it)
_entry: ContextVar[str] = ContextVar("credchain_thycotic_entry", default="")


@contextmanager
def acting_for(entry: str) -> Iterator[None]:
    """Count the token grants made in the block for ``entry``."""
    token = _entry.set(entry)
    try:
        yield
    finally:
        _entry.reset(token)


class VaultAccount:
    """The session and the token of one account on one Secret Server; thread-safe."""

    def __init__(
        self,
        settings: ThycoticSettings,
        *,
        clock: Callable[[], float],
        token_cache: TokenCache | None,
        shared: Cache | None = None,
    ) -> None:
        self.settings = settings
        self.http = VaultHttp(settings.origin, settings.tls_policy, http_settings(settings))
        self.token_url = settings.endpoint(settings.auth_path)
        self.token_cache = token_cache
        #: the token cache key: who logs in where (no secret)
        self.identity = token_identity(
            self.token_url, settings.grant, _account_name(settings), settings.domain
        )
        self.share = None if shared is None else SharedTokens(shared, self.identity, clock=clock)
        if self.share is not None:
            token_cache = self.token_cache = None  # the shared cache holds the token instead
        self._cache_read = token_cache is None and self.share is None
        self.tokens = TokenKeeper(
            self._grant,
            self._refresh,
            margin=settings.token_margin,
            clock=clock,
            on_new_token=None if token_cache is None else self._store_token,
            share=self.share,
        )

    def close(self) -> None:
        self.http.close()

    def token(self) -> AccessToken:
        """The shared access token, granted or renewed as needed."""
        if not self._cache_read:
            # Read lazily, so an account built after another process's grant reuses it.
            self._cache_read = True
            if self.share is not None:
                cached = self.share.current()
            else:
                assert self.token_cache is not None
                cached = self.token_cache.get(self.identity)
            if cached is not None:
                self.tokens.seed(cached)
        return self.tokens.get()

    def replace(self, refused: AccessToken) -> AccessToken:
        """The vault refused ``refused``: the token to retry with (one new grant at most)."""
        if self.tokens.invalidate(refused) and self.token_cache is not None:
            self.token_cache.discard(self.identity)
        return self.tokens.get()

    def renew(self) -> AccessToken:
        """A newly granted token, whatever is cached (a real login check)."""
        return self.tokens.renew()

    def _store_token(self, token: AccessToken) -> None:
        assert self.token_cache is not None
        self.token_cache.put(self.identity, token)

    def _grant(self) -> TokenGrant:
        s = self.settings
        if s.grant == "client_credentials":
            assert s.client_id and s.client_secret
            form = {
                "grant_type": "client_credentials",
                "client_id": s.client_id,
                "client_secret": s.client_secret.get_secret_value(),
            }
            check = "check the SDK client id and secret"
        else:
            assert s.username and s.password
            form = {
                "grant_type": "password",
                "username": s.username,
                "password": s.password.get_secret_value(),
            }
            if s.domain:
                form["domain"] = s.domain
            check = "check the " + (
                "username, password and domain" if s.domain else "username and password"
            )
        return self._token_request(form, s.account, check)

    def _refresh(self, refresh_token: str) -> TokenGrant:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_request(form, "the refresh token", "log in again")

    def _token_request(self, form: Mapping[str, str], who: str, check: str) -> TokenGrant:
        response = self.http.request(
            "POST", self.token_url, data=form, count_as=(_entry.get(), "token")
        )
        if response.status_code == 404:
            raise WrongEndpoint(
                f"{self.token_url} answered HTTP 404: it is not Secret Server's token endpoint "
                "(check the URL and the authorization path)"
            )
        what = f"the token endpoint {self.token_url}"
        if not 200 <= response.status_code < 300 and response.status_code < 400:
            raise UnexpectedAnswer(
                f"{what} answered HTTP {response.status_code}, which Secret Server does not "
                "(a redirect to a login page?)"
            )
        body = json_answer(response, what)
        if response.status_code >= 400:
            error = text_or_none(body.get("error"), 80) if isinstance(body, dict) else None
            raise LoginRefused(
                f"Secret Server refused the login for {who} (HTTP {response.status_code}"
                + (f", {error}" if error else "")
                + f"): {check}"
            )
        answer = checked(TokenAnswer, body, what)
        return TokenGrant(
            access_token=answer.access_token,
            expires_in=answer.lifetime(default=_DEFAULT_LIFETIME),
            refresh_token=answer.refresh_token or None,
        )


def _account_name(settings: ThycoticSettings) -> str:
    name = settings.client_id if settings.grant == "client_credentials" else settings.username
    return name or ""


def http_settings(settings: ThycoticSettings) -> HttpSettings:
    """How the account's session talks to the vault: timeouts, deadline, pool, retries."""
    return HttpSettings(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        deadline=settings.deadline,
        retry_after_max=settings.retry_after_max,
        pool_size=settings.pool_size,
        retries=settings.retries,
        allow_http=settings.allow_http,
    )


def account_key(
    settings: ThycoticSettings,
    *,
    clock: Callable[[], float],
    token_cache: TokenCache | None,
    shared: Cache | None = None,
) -> Hashable:
    """What makes two entries the same account on the same vault (see the module docstring)."""
    secret = settings.client_secret if settings.grant == "client_credentials" else settings.password
    digest = hashlib.sha256(secret.get_secret_value().encode() if secret else b"").hexdigest()
    return (
        settings.endpoint(settings.auth_path),
        settings.grant,
        _account_name(settings),
        settings.domain,
        digest,
        settings.tls_policy,
        http_settings(settings),
        settings.token_margin,
        None if token_cache is None else token_cache.directory,
        shared,
        clock,
    )


_lock = threading.Lock()
_accounts: dict[Hashable, tuple[VaultAccount, int]] = {}


def acquire(
    settings: ThycoticSettings,
    *,
    clock: Callable[[], float],
    token_cache: TokenCache | None,
    shared: Cache | None = None,
) -> VaultAccount:
    """The process's account for ``settings``, made on first use; ``release`` it when done."""
    key = account_key(settings, clock=clock, token_cache=token_cache, shared=shared)
    with _lock:
        found = _accounts.get(key)
        account = (
            found[0]
            if found is not None
            else VaultAccount(settings, clock=clock, token_cache=token_cache, shared=shared)
        )
        _accounts[key] = (account, (found[1] if found is not None else 0) + 1)
        return account


def release(account: VaultAccount) -> None:
    """One user less of ``account``; the last one closes its session."""
    with _lock:
        for key, (held, users) in list(_accounts.items()):
            if held is account:
                if users > 1:
                    _accounts[key] = (held, users - 1)
                    return
                del _accounts[key]
                break
    account.close()
