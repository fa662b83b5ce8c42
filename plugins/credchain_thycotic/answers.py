"""The shapes of Secret Server's answers, checked before the client uses them.

An answer of another shape is not the API (a proxy, a broken or hostile server): it is an
``UnexpectedAnswer`` that names the answer and the place (``the secrets search: unexpected
answer: records[2].id is not an integer``), never a value of it, which could be a secret. So is
JSON that Python cannot hold (nested too deeply, an integer of thousands of digits). Only the
fields the client reads are checked; others are ignored whatever they hold.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credchain.errors import UnexpectedAnswer
from credchain.http import json_body

__all__ = [
    "MAX_TOKEN_LIFETIME",
    "CreatedAnswer",
    "DetailAnswer",
    "FindAnswer",
    "FolderAnswer",
    "PageAnswer",
    "SearchAnswer",
    "SecretAnswer",
    "StubAnswer",
    "TemplatesAnswer",
    "TokenAnswer",
    "checked",
    "json_answer",
    "text_or_none",
]

#: the longest token lifetime believed (seconds): a vault cannot make a token outlive a day
MAX_TOKEN_LIFETIME = 24 * 3600.0
#: Secret Server's ids are 32-bit; 0 and below name no secret
SecretId = Annotated[int, Field(ge=1, le=2**31 - 1)]
#: a token as it goes in a header or a form: visible ASCII (RFC 6750's b64token is narrower)
_VISIBLE_ASCII = r"^[!-~]*$"
_MAX_TOKEN = 16 * 1024

_PROBLEMS = {
    "missing": "is missing",
    "int_type": "is not an integer",
    "int_parsing": "is not an integer",
    "int_from_float": "is not an integer",
    "float_type": "is not a number",
    "float_parsing": "is not a number",
    "finite_number": "is not a finite number",
    "string_type": "is not text",
    "string_too_short": "is empty",
    "string_too_long": "is too long",
    "string_pattern_mismatch": "is not a token (visible ASCII)",
    "string_unicode": "is not valid text (a lone surrogate)",
    "bool_type": "is not true or false",
    "bool_parsing": "is not true or false",
    "list_type": "is not a list",
    "model_type": "is not an object",
    "model_attributes_type": "is not an object",
    "dict_type": "is not an object",
    "greater_than_equal": "is out of range",
    "less_than_equal": "is out of range",
}


class _Shape(BaseModel):
    # strict: "1" is not an id, 1.5 is not an integer, "yes" is not true
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class ExtendedField(_Shape):
    name: str
    value: str | None = None


class SummaryAnswer(_Shape):
    id: SecretId
    name: str = ""
    template: str = Field("", alias="secretTemplateName")
    requires_comment: bool | None = Field(None, alias="requiresComment")
    extended: list[ExtendedField] | None = Field(None, alias="extendedFields")


class SearchAnswer(_Shape):
    """``GET secrets``: the paging envelope's records."""

    records: list[SummaryAnswer]


class PageAnswer(_Shape):
    """``GET secrets`` listed page by page: the records, and whether more follow."""

    records: list[SummaryAnswer]
    has_next: bool | None = Field(None, alias="hasNext")
    total: int | None = Field(None, ge=0)


class ItemAnswer(_Shape):
    field_name: str = Field("", alias="fieldName")
    slug: str = ""
    value: str | None = Field(None, alias="itemValue")
    #: a file attachment: ``value`` is a placeholder, the content is at ``fields/{slug}``
    is_file: bool | None = Field(None, alias="isFile")


class SecretAnswer(_Shape):
    """``GET secrets/{id}`` (or ``restricted``): the SecretModel's items."""

    id: SecretId
    name: str = ""
    template: str = Field("", alias="secretTemplateName")
    items: list[ItemAnswer] | None = None


class FoundAnswer(_Shape):
    """A search record as ``credchain secret find`` lists it."""

    id: SecretId
    name: str = ""
    template: str = Field("", alias="secretTemplateName")
    folder_id: int | None = Field(None, alias="folderId")
    folder_path: str | None = Field(None, alias="folderPath")


class FindAnswer(_Shape):
    """``GET secrets`` for ``credchain secret find``: a page of records."""

    records: list[FoundAnswer]
    has_next: bool | None = Field(None, alias="hasNext")


class DetailItemAnswer(ItemAnswer):
    is_password: bool | None = Field(None, alias="isPassword")
    is_file: bool | None = Field(None, alias="isFile")
    filename: str | None = None


class DetailAnswer(_Shape):
    """``GET secrets/{id}`` for ``credchain secret get``: the items with their kinds."""

    id: SecretId
    name: str = ""
    template: str = Field("", alias="secretTemplateName")
    folder_id: int | None = Field(None, alias="folderId")
    items: list[DetailItemAnswer] | None = None


class StubAnswer(_Shape):
    """``GET secrets/stub``: a SecretModel to fill in; its items are checked, not its id."""

    items: list[DetailItemAnswer]


class CreatedAnswer(_Shape):
    """``POST secrets``: the new SecretModel's id."""

    id: SecretId


class FolderAnswer(_Shape):
    """``GET folders/{id}``."""

    id: int
    folder_path: str = Field("", alias="folderPath")


class TemplateRecord(_Shape):
    id: int
    name: str = ""


class TemplatesAnswer(_Shape):
    """``GET secret-templates``: the paging envelope's records."""

    records: list[TemplateRecord]


class TokenAnswer(_Shape):
    """``POST oauth2/token``, granted; a lifetime over a day is believed as a day."""

    access_token: str = Field(min_length=1, max_length=_MAX_TOKEN, pattern=_VISIBLE_ASCII)
    expires_in: float | None = Field(None, ge=0, allow_inf_nan=False)
    refresh_token: str | None = Field(None, max_length=_MAX_TOKEN, pattern=_VISIBLE_ASCII)

    def lifetime(self, default: float) -> float:
        seconds = default if self.expires_in is None else self.expires_in
        return min(seconds, MAX_TOKEN_LIFETIME)


Answer = TypeVar("Answer", bound=_Shape)


def json_answer(response: requests.Response, what: str) -> Any:
    """The response's JSON (``credchain.http.json_body``), or ``UnexpectedAnswer``."""
    try:
        return json_body(response, what)
    except RecursionError:
        reason = "JSON nested too deeply"
    except ValueError:  # json's own errors are handled above; this is an int of >4300 digits
        reason = "JSON with a number Python cannot read"
    size = f"HTTP {response.status_code}, {len(response.content)} bytes"
    raise UnexpectedAnswer(f"{what}: {reason} ({size})")


def checked(shape: type[Answer], body: object, what: str) -> Answer:
    """``body`` as ``shape``, or ``UnexpectedAnswer`` naming the first problem and its place."""
    try:
        return shape.model_validate(body)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_context=False, include_input=False)
    first = problems[0]
    more = len(problems) - 1
    where = _place(tuple(first["loc"]))
    problem = _PROBLEMS.get(first["type"], f"has an unexpected shape ({first['type']})")
    if where == "the answer" and problem == "is not an object":
        message = "the answer is not an object"
    else:
        message = f"{where} {problem}"
    extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    raise UnexpectedAnswer(f"{what}: unexpected answer: {message}{extra}")


def text_or_none(value: object, limit: int = 160) -> str | None:
    """A text field of an error answer, cut at ``limit``; ``None`` if it is not text."""
    if not isinstance(value, str) or not value:
        return None
    return value[:limit] + ("…" if len(value) > limit else "")


def _place(loc: tuple[int | str, ...]) -> str:
    """``records[2].id`` for pydantic's ``("records", 2, "id")``; ``the answer`` for ``()``."""
    place = ""
    for part in loc:
        place += f"[{part}]" if isinstance(part, int) else (f".{part}" if place else str(part))
    return place or "the answer"
