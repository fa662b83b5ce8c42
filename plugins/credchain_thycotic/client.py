"""A Secret Server REST API v1 client: the reads a scanner needs, for one chain entry.

``SecretServerClient(settings, entry=...)`` shares its session and token with every client of
the same vault account in the process (``credchain_thycotic.account``), and counts what it sends
for its own entry: ``vault_requests()`` is every HTTP attempt it caused, token grants and
retries included.

The one retry rule: a call whose token the vault refuses (401, or Secret Server's "expired
token" message) gets one new token and is retried once; refused again, it raises
``TokenExpired``. Nothing above retries it again.

The one field rule: a field is named by its display name or its slug, in any case and with any
punctuation (``Privilege Password``, ``privilege-password``); an exact name or slug wins over a
looser match. ``read_credential`` is the one way to read a credential: the values the search
returned, else ``GET secrets/{id}`` (or ``POST .../restricted`` with the comment).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from credchain.cache import Cache, TokenCache
from credchain.errors import (
    AccessDenied,
    FieldMissing,
    ProviderError,
    TokenExpired,
    UnexpectedAnswer,
    WrongEndpoint,
)
from credchain.tokens import AccessToken
from credchain_thycotic import account as accounts
from credchain_thycotic.answers import (
    PageAnswer,
    SearchAnswer,
    SecretAnswer,
    SummaryAnswer,
    checked,
    json_answer,
    text_or_none,
)

if TYPE_CHECKING:
    from credchain_thycotic.settings import ThycoticSettings

__all__ = [
    "CredentialFields",
    "SecretPage",
    "SecretRecord",
    "SecretServerClient",
    "SecretSummary",
    "SecretValues",
    "answer_body",
    "api_error",
    "error_code",
    "field_key",
]

_EXPIRED = "authentication failed or expired token"
V = TypeVar("V")


def field_key(name: str) -> str:
    """A field name as compared: case and punctuation dropped (``privilege-password``)."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _pick(wanted: str, fields: Iterable[tuple[tuple[str, ...], V]]) -> V:
    """The value of the field called ``wanted`` by one of its names; ``KeyError`` if none."""
    listed = list(fields)
    for names, value in listed:
        if wanted in names:
            return value
    key = field_key(wanted)
    for names, value in listed:
        if any(field_key(name) == key for name in names):
            return value
    raise KeyError(wanted)


@dataclass(frozen=True, slots=True)
class SecretSummary:
    """A search result: no secret values except the ``extended`` fields asked for."""

    id: int
    name: str
    template: str
    requires_comment: bool
    #: field name -> value, for the extended fields the server returned
    extended: Mapping[str, str | None] = field(default_factory=dict, repr=False)

    def field(self, name: str) -> tuple[bool, str | None]:
        """``(the search returned the field, its value)``, by the one field rule."""
        try:
            return True, _pick(name, (((key,), value) for key, value in self.extended.items()))
        except KeyError:
            return False, None


@dataclass(frozen=True, slots=True)
class SecretPage:
    """A page of a listing: its summaries, whether more follow, and the total if told."""

    summaries: list[SecretSummary]
    has_next: bool | None
    total: int | None


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """A secret's fields; ``repr`` shows names, never values."""

    id: int
    name: str
    template: str
    #: (field name, slug, value)
    items: tuple[tuple[str, str, str | None], ...] = field(repr=False)
    #: slugs of the file fields, whose value is a placeholder (``field_content`` reads them)
    files: frozenset[str] = frozenset()

    def field_names(self) -> list[str]:
        return [name for name, _, _ in self.items]

    def value(self, wanted: str) -> str | None:
        """The value of the field ``wanted`` (its name or slug, by the one field rule)."""
        return _pick(wanted, (((name, slug), value) for name, slug, value in self.items))

    def slug(self, wanted: str) -> str:
        """The slug of the field ``wanted`` (by the one field rule); ``KeyError`` if none."""
        return _pick(wanted, (((name, slug), slug) for name, slug, _ in self.items))


@dataclass(frozen=True, slots=True)
class CredentialFields:
    """Which fields of a secret hold the credential."""

    username: str
    password: str
    privilege_password: str | None = None

    @property
    def names(self) -> list[str]:
        """The fields to ask the search for, in SAFE's ``extendedFields`` order."""
        names = [self.password, self.username]
        if self.privilege_password:
            names.append(self.privilege_password)
        return names


@dataclass(frozen=True, slots=True)
class SecretValues:
    """A credential's values as read from a secret; ``repr`` hides them."""

    id: int
    name: str
    username: str | None = field(repr=False)
    password: str | None = field(repr=False)
    privilege_password: str | None = field(repr=False)


class SecretServerClient:
    """Reads secrets from one Secret Server as the configured account, for one chain entry."""

    def __init__(
        self,
        settings: ThycoticSettings,
        *,
        entry: str = "",
        clock: Callable[[], float] = time.time,
        token_cache: TokenCache | None = None,
        shared: Cache | None = None,
    ) -> None:
        self.settings = settings
        self.entry = entry
        self.account = accounts.acquire(
            settings, clock=clock, token_cache=token_cache, shared=shared
        )
        self.secrets_url = settings.endpoint(settings.secrets_path)
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            accounts.release(self.account)

    @property
    def token_url(self) -> str:
        return self.account.token_url

    def vault_requests(self) -> dict[str, int]:
        """HTTP attempts this entry caused, by kind (search, list, get, restricted, token,
        other)."""
        return self.account.http.attempts.by_kind(self.entry)

    def deadline(self) -> AbstractContextManager[None]:
        """Run a whole lookup (its searches, reads and any token renewal) within one
        ``deadline``: past it, ``ProviderUnavailable``."""
        return self.account.http.deadline()

    # -- tokens ------------------------------------------------------------------------------

    def token(self, *, renew: bool = False) -> AccessToken:
        """The shared access token; ``renew`` makes a new grant whatever is cached."""
        with accounts.acting_for(self.entry):
            return self.account.renew() if renew else self.account.token()

    # -- calls ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: object = None,
        what: str,
        kind: str = "other",
        token: AccessToken | None = None,
    ) -> requests.Response:
        """One API call with ``token`` (else the shared one), by the module's retry rule; the
        answer whatever its status (``answer_body`` checks it)."""
        with accounts.acting_for(self.entry):
            current = token or self.account.token()
            for attempt in (1, 2):
                response = self.account.http.request(
                    method,
                    url,
                    params=params,
                    json_body=json,
                    headers=current.header,
                    count_as=(self.entry, kind),
                )
                if not _token_refused(response):
                    break
                if attempt == 2:
                    raise TokenExpired(f"Secret Server refused a fresh token for {what}")
                current = self.account.replace(current)
        return response

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: object = None,
        what: str,
        kind: str = "other",
        token: AccessToken | None = None,
    ) -> Any:
        """``request``, then its JSON answer (``answer_body``)."""
        response = self.request(
            method, url, params=params, json=json, what=what, kind=kind, token=token
        )
        return answer_body(response, url, what)

    def field_content(self, secret_id: int, slug: str) -> bytes:
        """``GET secrets/{id}/fields/{slug}``: a field's raw content (a file field's bytes)."""
        what = f"field {slug!r} of secret {secret_id}"
        url = f"{self.secrets_url}/{secret_id}/fields/{slug}"
        response = self.request("GET", url, what=what, kind="get")
        if not 200 <= response.status_code < 300:
            answer_body(response, url, what)  # raises the error the answer stands for
        return response.content

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
        token: AccessToken | None = None,
    ) -> list[SecretSummary]:
        """``GET secrets``: summaries of the secrets whose field (or name) matches ``text``."""
        params = _search_params(
            text, search_field, exact, include_restricted, take, folder_id, template_id
        )
        fields = list(extended_fields)
        if fields:
            params["filter.extendedFields"] = fields
        body = self.call(
            "GET",
            self.secrets_url,
            params=params,
            what="the secrets search",
            kind="search",
            token=token,
        )
        answer = checked(SearchAnswer, body, "the secrets search")
        return [_summary(record) for record in answer.records]

    def list_page(
        self,
        *,
        extended_fields: Iterable[str],
        take: int,
        skip: int,
        folder_id: int | None = None,
    ) -> SecretPage:
        """One page of ``GET secrets`` with no search text: every secret the account may see
        (under ``folder_id``), ``take`` at a time from ``skip``, with the extended fields."""
        params = _search_params("", None, False, True, take, folder_id, None)
        params["skip"] = skip
        params["filter.extendedFields"] = list(extended_fields)
        body = self.call(
            "GET",
            self.secrets_url,
            params=params,
            what="the secrets listing",
            kind="list",
        )
        answer = checked(PageAnswer, body, "the secrets listing")
        return SecretPage(
            [_summary(record) for record in answer.records], answer.has_next, answer.total
        )

    def get_secret(self, secret_id: int, *, comment: str | None = None) -> SecretRecord:
        """``GET secrets/{id}``, or ``POST secrets/{id}/restricted`` with ``comment``."""
        what = f"secret {secret_id}"
        if comment is None:
            body = self.call("GET", f"{self.secrets_url}/{secret_id}", what=what, kind="get")
        else:
            body = self.call(
                "POST",
                f"{self.secrets_url}/{secret_id}/restricted",
                json={"comment": comment, "includeInactive": False},
                what=what,
                kind="restricted",
            )
        return _record(checked(SecretAnswer, body, what))

    def read_credential(
        self,
        summary: SecretSummary,
        fields: CredentialFields,
        *,
        comment: str | None,
        comment_setting: str,
    ) -> SecretValues:
        """The credential of ``summary``: from the search's values, else from the secret.

        The secret is read (one more request) when the search withheld a value (a secret that
        needs a ``comment`` when viewed, or a check-out secret) or did not return a field. A
        privilege password field the template lacks is no reason: most templates have none.
        ``comment_setting`` names the setting to advise when a comment is needed.
        """
        username = summary.field(fields.username)[1]
        password = summary.field(fields.password)[1]
        privilege: str | None = None
        withheld = False
        if fields.privilege_password:
            present, privilege = summary.field(fields.privilege_password)
            withheld = present and privilege is None
        if not (summary.requires_comment or not username or not password or withheld):
            return SecretValues(summary.id, summary.name, username, password, privilege)
        if summary.requires_comment and not comment:
            raise ProviderError(
                f"secret {summary.id} {summary.name!r} requires a comment when viewed: set "
                f'{comment_setting} (for example "credchain scan")'
            )
        record = self.get_secret(summary.id, comment=comment if summary.requires_comment else None)
        return SecretValues(
            summary.id,
            summary.name,
            _required(record, fields.username),
            _required(record, fields.password),
            _optional(record, fields.privilege_password),
        )


def _search_params(
    text: str,
    search_field: str | None,
    exact: bool,
    include_restricted: bool,
    take: int,
    folder_id: int | None,
    template_id: int | None,
) -> dict[str, Any]:
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
    return params


def _required(record: SecretRecord, name: str) -> str | None:
    try:
        return record.value(name)
    except KeyError:
        raise FieldMissing(
            f"secret {record.id} {record.name!r} (template {record.template!r}) has no field "
            f"{name!r}; its fields are {', '.join(record.field_names())}: check the mapping "
            "(thycotic_mapping.json)"
        ) from None


def _optional(record: SecretRecord, name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return record.value(name)
    except KeyError:
        return None


def _token_refused(response: requests.Response) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code in (400, 403) and "json" in response.headers.get("Content-Type", ""):
        try:
            body = response.json()
        except (ValueError, RecursionError):  # the caller reports the body
            return False
        message = text_or_none(body.get("message")) if isinstance(body, dict) else None
        return message is not None and _EXPIRED in message.lower()
    return False


def answer_body(response: requests.Response, url: str, what: str) -> Any:
    """The JSON of a 2xx answer; any other answer as the credchain error it stands for."""
    if response.status_code == 404:
        raise WrongEndpoint(
            f"{what}: {url} answered HTTP 404: not Secret Server's REST API "
            "(check the URL and the secrets path)"
        )
    if not 200 <= response.status_code < 300 and response.status_code < 400:
        raise UnexpectedAnswer(
            f"{what}: {url} answered HTTP {response.status_code}, which Secret Server's "
            "REST API does not (a redirect to a login page?)"
        )
    body = json_answer(response, what)
    if response.status_code >= 400:
        raise api_error(response.status_code, body, what)
    return body


def error_code(body: object) -> str:
    """The ``errorCode`` (or OAuth ``error``) of an error answer, cut short; ``""`` if none."""
    if not isinstance(body, dict):
        return ""
    return text_or_none(body.get("errorCode"), 80) or text_or_none(body.get("error"), 80) or ""


def api_error(status: int, body: object, what: str) -> ProviderError:
    # Only text codes and messages, cut short: anything else may be a secret echoed back.
    code = error_code(body)
    message = (text_or_none(body.get("message")) if isinstance(body, dict) else None) or ""
    if code == "API_AccessDenied":
        return AccessDenied(
            f"{what}: access denied (the account needs View permission on it, and the "
            "secret must be shared with it)"
        )
    detail = ", ".join(part for part in (code, message[:160]) if part)
    return ProviderError(
        f"{what}: Secret Server answered HTTP {status}" + (f" ({detail})" if detail else "")
    )


def _summary(answer: SummaryAnswer) -> SecretSummary:
    return SecretSummary(
        id=answer.id,
        name=answer.name,
        template=answer.template,
        requires_comment=bool(answer.requires_comment),
        extended={item.name: item.value for item in answer.extended or ()},
    )


def _record(answer: SecretAnswer) -> SecretRecord:
    return SecretRecord(
        id=answer.id,
        name=answer.name,
        template=answer.template,
        items=tuple((item.field_name, item.slug, item.value) for item in answer.items or ()),
        files=frozenset(item.slug for item in answer.items or () if item.is_file),
    )
