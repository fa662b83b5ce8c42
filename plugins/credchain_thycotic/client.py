"""A Secret Server REST API v1 client: one session, one shared token, the reads a scanner needs.

Other providers and custom scripts reuse it (``SecretServerClient(settings)``). Every call
gets the shared token from a ``TokenKeeper``; a 401 or Secret Server's "expired token" message
invalidates it, makes one new grant and retries the call once. With a ``token_cache``
(``credchain.cache.TokenCache``) the first call starts from the account's cached token and every
new token is stored there, so runs share one grant per token lifetime.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from credchain.cache import TokenCache, token_identity
from credchain.errors import ProviderError, TokenExpired
from credchain.http import HttpSettings, VaultHttp, json_body
from credchain.tokens import AccessToken, TokenGrant, TokenKeeper
from credchain_thycotic.settings import ThycoticSettings

__all__ = ["SecretRecord", "SecretServerClient", "SecretSummary"]

_EXPIRED = "authentication failed or expired token"


@dataclass(frozen=True, slots=True)
class SecretSummary:
    """A search result: no secret values except the ``extended`` fields asked for."""

    id: int
    name: str
    template: str
    requires_comment: bool
    #: field name -> value, for the extended fields the server returned
    extended: Mapping[str, str | None] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """A secret's fields; ``repr`` shows names, never values."""

    id: int
    name: str
    template: str
    #: (field name, slug, value)
    items: tuple[tuple[str, str, str | None], ...] = field(repr=False)

    def field_names(self) -> list[str]:
        return [name for name, _, _ in self.items]

    def value(self, wanted: str) -> str | None:
        """The value of the field named ``wanted`` (its name or slug, exactly, else any case)."""
        for name, slug, value in self.items:
            if wanted in (name, slug):
                return value
        folded = wanted.casefold()
        for name, slug, value in self.items:
            if folded in (name.casefold(), slug.casefold()):
                return value
        raise KeyError(wanted)


class SecretServerClient:
    """Reads secrets from one Secret Server as the configured account."""

    def __init__(
        self,
        settings: ThycoticSettings,
        *,
        clock: Callable[[], float] = time.time,
        token_cache: TokenCache | None = None,
    ) -> None:
        self.settings = settings
        self.http = VaultHttp(
            settings.origin,
            settings.tls_policy,
            HttpSettings(
                connect_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
                pool_size=settings.pool_size,
                retries=settings.retries,
                allow_http=settings.allow_http,
            ),
        )
        self.token_url = settings.endpoint(settings.auth_path)
        self.secrets_url = settings.endpoint(settings.secrets_path)
        self.token_cache = token_cache
        account = (
            settings.client_id if settings.grant == "client_credentials" else settings.username
        )
        #: the token cache key: who logs in where (no secret)
        self.token_identity = token_identity(
            self.token_url, settings.grant, account or "", settings.domain
        )
        self._cache_read = token_cache is None
        self.tokens = TokenKeeper(
            self._grant,
            self._refresh,
            margin=settings.token_margin,
            clock=clock,
            on_new_token=None if token_cache is None else self._store_token,
        )
        #: vault requests made, by kind (search, get, restricted, token)
        self.requests: dict[str, int] = {}
        self._requests_lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    # -- tokens ------------------------------------------------------------------------------

    def token(self) -> AccessToken:
        """The shared access token, granted or renewed as needed."""
        if not self._cache_read:
            # Read lazily, so a client built after another one's grant in this process reuses it.
            self._cache_read = True
            assert self.token_cache is not None
            cached = self.token_cache.get(self.token_identity)
            if cached is not None:
                self.tokens.seed(cached)
        return self.tokens.get()

    def _store_token(self, token: AccessToken) -> None:
        assert self.token_cache is not None
        self.token_cache.put(self.token_identity, token)

    def _grant(self) -> TokenGrant:
        s = self.settings
        if s.grant == "client_credentials":
            assert s.client_id and s.client_secret
            form = {
                "grant_type": "client_credentials",
                "client_id": s.client_id,
                "client_secret": s.client_secret.get_secret_value(),
            }
            who = f"client {s.client_id!r}"
        else:
            assert s.username and s.password
            form = {
                "grant_type": "password",
                "username": s.username,
                "password": s.password.get_secret_value(),
            }
            if s.domain:
                form["domain"] = s.domain
            who = f"user {s.username!r}" + (f" in domain {s.domain!r}" if s.domain else "")
        return self._token_request(form, who)

    def _refresh(self, refresh_token: str) -> TokenGrant:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_request(form, "the refresh token")

    def _token_request(self, form: Mapping[str, str], who: str) -> TokenGrant:
        self._count("token")
        response = self.http.request("POST", self.token_url, data=form)
        body = json_body(response, f"the token endpoint {self.token_url}")
        if response.status_code >= 400 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise ProviderError(
                f"Secret Server refused the login for {who} (HTTP {response.status_code}"
                + (f", {error}" if isinstance(error, str) else "")
                + "): check the username, password and domain, or the client credentials"
            )
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise ProviderError(f"the token endpoint {self.token_url} returned no access_token")
        expires_in = body.get("expires_in")
        refresh = body.get("refresh_token")
        return TokenGrant(
            access_token=access,
            expires_in=float(expires_in) if isinstance(expires_in, int | float) else 300.0,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        )

    # -- calls ---------------------------------------------------------------------------------

    def _count(self, kind: str) -> None:
        with self._requests_lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1

    def vault_requests(self) -> int:
        """How many requests this client sent to Secret Server (tokens included)."""
        with self._requests_lock:
            return sum(self.requests.values())

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: object = None,
        what: str,
    ) -> Any:
        """One API call with the shared token; 401 means one new grant and one retry."""
        for attempt in (1, 2):
            token = self.token()
            response = self.http.request(
                method, url, params=params, json_body=json, headers=token.header
            )
            if not _token_refused(response):
                break
            self.tokens.invalidate(token)
            if self.token_cache is not None:
                self.token_cache.discard(self.token_identity)
            if attempt == 2:
                raise TokenExpired(f"Secret Server refused a fresh token for {what}")
        body = json_body(response, what)
        if response.status_code >= 400:
            raise _api_error(response.status_code, body, what)
        return body

    def search(
        self,
        text: str,
        *,
        search_field: str | None = None,
        exact: bool = True,
        extended_fields: Iterable[str] = (),
        take: int = 10,
        folder_id: int | None = None,
        template_id: int | None = None,
        include_restricted: bool = True,
    ) -> list[SecretSummary]:
        """``GET secrets``: summaries of the secrets whose field (or name) matches ``text``."""
        params: dict[str, Any] = {
            "filter.searchText": text,
            "filter.isExactMatch": str(exact).lower(),
            "filter.includeRestricted": str(include_restricted).lower(),
            "take": take,
        }
        if search_field:
            params["filter.searchField"] = search_field
        if folder_id is not None:
            params["filter.folderId"] = folder_id
            params["filter.includeSubFolders"] = "true"
        if template_id is not None:
            params["filter.secretTemplateId"] = template_id
        fields = list(extended_fields)
        if fields:
            params["filter.extendedFields"] = fields
        self._count("search")
        body = self.call("GET", self.secrets_url, params=params, what="the secrets search")
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise ProviderError("the secrets search answered without 'records'")
        return [_summary(record) for record in records if isinstance(record, dict)]

    def get_secret(self, secret_id: int, *, comment: str | None = None) -> SecretRecord:
        """``GET secrets/{id}``, or ``POST secrets/{id}/restricted`` with ``comment``."""
        what = f"secret {secret_id}"
        if comment is None:
            self._count("get")
            body = self.call("GET", f"{self.secrets_url}/{secret_id}", what=what)
        else:
            self._count("restricted")
            body = self.call(
                "POST",
                f"{self.secrets_url}/{secret_id}/restricted",
                json={"comment": comment, "includeInactive": False},
                what=what,
            )
        if not isinstance(body, dict):
            raise ProviderError(f"{what}: the answer is not a secret")
        return _record(body)


def _token_refused(response: requests.Response) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code in (400, 403) and "json" in response.headers.get("Content-Type", ""):
        try:
            message = str(response.json().get("message", ""))
        except (ValueError, AttributeError):
            return False
        return _EXPIRED in message.lower()
    return False


def _api_error(status: int, body: object, what: str) -> ProviderError:
    code = message = ""
    if isinstance(body, dict):
        code = str(body.get("errorCode") or body.get("error") or "")
        message = str(body.get("message") or "")
    if code == "API_AccessDenied":
        return ProviderError(
            f"{what}: access denied (the account needs View permission on it, and the "
            "secret must be shared with it)"
        )
    detail = ", ".join(part for part in (code, message[:160]) if part)
    return ProviderError(
        f"{what}: Secret Server answered HTTP {status}" + (f" ({detail})" if detail else "")
    )


def _summary(record: dict[str, Any]) -> SecretSummary:
    extended: dict[str, str | None] = {}
    for item in record.get("extendedFields") or ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            value = item.get("value")
            extended[item["name"]] = value if isinstance(value, str) else None
    return SecretSummary(
        id=int(record.get("id", 0)),
        name=str(record.get("name", "")),
        template=str(record.get("secretTemplateName", "")),
        requires_comment=bool(record.get("requiresComment")),
        extended=extended,
    )


def _record(body: dict[str, Any]) -> SecretRecord:
    items = []
    for item in body.get("items") or ():
        if isinstance(item, dict):
            value = item.get("itemValue")
            items.append(
                (
                    str(item.get("fieldName", "")),
                    str(item.get("slug", "")),
                    value if isinstance(value, str) else None,
                )
            )
    return SecretRecord(
        id=int(body.get("id", 0)),
        name=str(body.get("name", "")),
        template=str(body.get("secretTemplateName", "")),
        items=tuple(items),
    )
