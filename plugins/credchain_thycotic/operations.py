"""Secret Server calls of the plugin's own commands: read a secret or one field, find secrets,
name a folder or a template, and create a secret from its template's stub (seed 003).

All go through ``SecretServerClient.request`` (the shared token, its one retry rule). Errors are
credchain errors with one line each; they name ids, names, fields and folders, never a value.
The API's other routes are found beside the secrets path (``.../api/v1/secrets`` ->
``.../api/v1/folders``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from credchain.errors import AccessDenied, FieldMissing, ProviderError
from credchain_thycotic.answers import (
    CreatedAnswer,
    DetailAnswer,
    FindAnswer,
    FolderAnswer,
    StubAnswer,
    TemplatesAnswer,
    checked,
    json_answer,
    text_or_none,
)
from credchain_thycotic.client import (
    SecretServerClient,
    answer_body,
    api_error,
    error_code,
    field_key,
)

__all__ = [
    "FieldContent",
    "Folder",
    "Found",
    "SecretDetail",
    "SecretItem",
    "Template",
    "create_secret",
    "fill",
    "find_secrets",
    "folder_of",
    "match_field",
    "read_field",
    "read_secret",
    "secret_stub",
    "template_of",
]

#: most records asked for per page of a search
_PAGE = 100
_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SecretItem:
    """One field of a secret; ``repr`` hides its value."""

    name: str
    slug: str
    value: str | None = field(repr=False)
    is_password: bool = False
    is_file: bool = False
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class SecretDetail:
    id: int
    name: str
    template: str
    folder_id: int | None
    items: tuple[SecretItem, ...]


@dataclass(frozen=True, slots=True)
class FieldContent:
    """A field's value as the field endpoint sent it: text, or a file's bytes."""

    data: bytes = field(repr=False)
    is_file: bool = False
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A secret a search found: never a value."""

    id: int
    name: str
    folder: str
    template: str


@dataclass(frozen=True, slots=True)
class Folder:
    id: int
    path: str

    @property
    def label(self) -> str:
        return self.path or f"folder {self.id}"


@dataclass(frozen=True, slots=True)
class Template:
    id: int
    name: str


def _api(client: SecretServerClient, route: str) -> str:
    """The URL of ``route`` of the API whose secrets URL the client has."""
    return f"{client.secrets_url.rsplit('/', 1)[0]}/{route}"


def _secret_url(client: SecretServerClient, secret_id: int, comment: str | None) -> str:
    restricted = "/restricted" if comment is not None else ""
    return f"{client.secrets_url}/{secret_id}{restricted}"


def read_secret(
    client: SecretServerClient, secret_id: int, *, comment: str | None = None
) -> SecretDetail:
    """``GET secrets/{id}`` (``POST .../restricted`` with ``comment``): every field, its kind."""
    what = f"secret {secret_id}"
    method, body = ("GET", None) if comment is None else ("POST", {"comment": comment})
    answer = checked(
        DetailAnswer,
        client.call(
            method, _secret_url(client, secret_id, comment), json=body, what=what, kind="get"
        ),
        what,
    )
    items = tuple(
        SecretItem(
            name=item.field_name,
            slug=item.slug,
            value=item.value,
            is_password=bool(item.is_password),
            is_file=bool(item.is_file),
            filename=item.filename,
        )
        for item in answer.items or ()
    )
    return SecretDetail(answer.id, answer.name, answer.template, answer.folder_id, items)


def read_field(
    client: SecretServerClient, secret_id: int, slug: str, *, comment: str | None = None
) -> FieldContent:
    """``GET secrets/{id}/fields/{slug}``: a text field's value, or a file field's bytes."""
    what = f"secret {secret_id} field {slug!r}"
    url = f"{_secret_url(client, secret_id, comment)}/fields/{slug}"
    method, body = ("GET", None) if comment is None else ("POST", {"comment": comment})
    response = client.request(method, url, json=body, what=what, kind="get")
    content_type = response.headers.get("Content-Type", "").lower()
    if 200 <= response.status_code < 300 and "json" not in content_type:
        found = _FILENAME.search(response.headers.get("Content-Disposition", ""))
        return FieldContent(response.content, True, found.group(1) if found else None)
    if response.status_code == 400:
        answer = json_answer(response, what)
        if error_code(answer) in ("API_FieldNotFound", "API_InvalidField"):
            raise FieldMissing(f"secret {secret_id} has no field {slug!r}")
        raise api_error(400, answer, what)
    value = answer_body(response, url, what)
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return FieldContent(text.encode("utf-8"), False, None)


def find_secrets(
    client: SecretServerClient,
    text: str,
    *,
    search_field: str | None = None,
    folder_id: int | None = None,
    limit: int = 1000,
) -> list[Found]:
    """``GET secrets``: the secrets whose name (or ``search_field``) contains ``text``."""
    params: dict[str, Any] = {
        "filter.searchText": text,
        "filter.isExactMatch": "false",
        "filter.includeRestricted": "true",
    }
    if search_field:
        params["filter.searchField"] = search_field
    if folder_id is not None:
        params["filter.folderId"] = folder_id
        params["filter.includeSubFolders"] = "true"
    found: list[Found] = []
    while len(found) < limit:
        page = {**params, "skip": len(found), "take": min(_PAGE, limit - len(found))}
        body = client.call(
            "GET", client.secrets_url, params=page, what="the secrets search", kind="search"
        )
        answer = checked(FindAnswer, body, "the secrets search")
        for record in answer.records:
            folder = record.folder_path or (
                f"folder {record.folder_id}" if record.folder_id not in (None, -1) else ""
            )
            found.append(Found(record.id, record.name, folder, record.template))
        if not answer.records or not answer.has_next:
            break
    return found[:limit]


def folder_of(client: SecretServerClient, folder: str) -> Folder:
    """The folder given by its id or its path (``\\Parent\\Child``, ``/`` also taken)."""
    given = folder.strip()
    by_id = given.isdigit()
    what = f"folder {given}" if by_id else f"folder '{given}'"
    url = _api(client, f"folders/{given if by_id else 0}")
    params = None if by_id else {"folderPath": given}
    response = client.request("GET", url, params=params, what=what)
    if response.status_code == 400:
        code = error_code(json_answer(response, what))
        if code in ("API_FolderNotFound", "API_AccessDenied"):
            raise ProviderError(f"{what}: not found, or not visible to this account")
    answer = checked(FolderAnswer, answer_body(response, url, what), what)
    return Folder(answer.id, answer.folder_path)


def template_of(client: SecretServerClient, template: str) -> Template:
    """The secret template given by its id or its name (any case)."""
    given = template.strip()
    if given.isdigit():
        return Template(int(given), f"template {given}")
    what = "the secret templates"
    body = client.call(
        "GET",
        _api(client, "secret-templates"),
        params={"filter.searchText": given, "take": 500},
        what=what,
    )
    records = checked(TemplatesAnswer, body, what).records
    for record in records:
        if record.name.casefold() == given.casefold():
            return Template(record.id, record.name)
    names = ", ".join(repr(r.name) for r in records[:10]) or "none visible"
    raise ProviderError(f"no secret template named {given!r} (templates: {names})")


def secret_stub(
    client: SecretServerClient, template: Template, folder: Folder
) -> tuple[dict[str, Any], StubAnswer]:
    """``GET secrets/stub`` for the template and folder: the raw model to fill in, and its
    checked shape (the fields, their kinds)."""
    what = f"the stub of {template.name!r}"
    params = {"filter.secretTemplateId": template.id, "filter.folderId": folder.id}
    response = client.request("GET", f"{client.secrets_url}/stub", params=params, what=what)
    if response.status_code == 400:
        code = error_code(json_answer(response, what))
        if code == "API_InvalidTemplate":
            raise ProviderError(f"no secret template {template.name!r} (id {template.id})")
        if code == "API_FolderNotFound":
            raise ProviderError(f"{folder.label}: not found")
    raw = answer_body(response, f"{client.secrets_url}/stub", what)
    stub = checked(StubAnswer, raw, what)
    assert isinstance(raw, dict)
    return raw, stub


def create_secret(
    client: SecretServerClient, model: dict[str, Any], *, folder: Folder, template: Template
) -> int:
    """``POST secrets`` with the filled ``model``: the new id; the server's refusals each as
    one line (folder not found, access denied, a required field empty, a name taken)."""
    name = str(model.get("name", ""))
    what = f"creating secret {name!r}"
    response = client.request("POST", client.secrets_url, json=model, what=what, kind="create")
    if response.status_code == 400:
        body = json_answer(response, what)
        code = error_code(body)
        message = (text_or_none(body.get("message")) if isinstance(body, dict) else None) or ""
        if code == "API_FolderNotFound":
            raise ProviderError(f"{what}: {folder.label} not found")
        if code == "API_AccessDenied":
            raise AccessDenied(
                f"{what}: access denied: this account may not add secrets to {folder.label}"
            )
        if code in ("API_RequiredFieldMissing", "API_SecretNameRequired"):
            raise FieldMissing(
                f"{what}: {message or 'a required field is empty'} (template {template.name!r}; "
                "give it with --field SLUG=VALUE)"
            )
        if code == "API_DuplicateSecretName":
            raise ProviderError(f"{what}: a secret of that name already exists in {folder.label}")
        raise api_error(400, body, what)
    created = checked(CreatedAnswer, answer_body(response, client.secrets_url, what), what)
    return created.id


def fill(model: dict[str, Any], values: dict[str, str]) -> None:
    """Set the items of a stub ``model`` whose slug is a key of ``values`` (slugs as given
    by ``match_field``)."""
    for item in model.get("items") or []:
        if isinstance(item, dict) and item.get("slug") in values:
            item["itemValue"] = values[str(item["slug"])]


def match_field(stub: StubAnswer, wanted: str) -> str | None:
    """The slug of the stub's field called ``wanted`` (its slug or name, by the one field
    rule: exact first, then case and punctuation dropped); ``None`` if none."""
    for item in stub.items:
        if wanted in (item.slug, item.field_name):
            return item.slug
    key = field_key(wanted)
    for item in stub.items:
        if key in (field_key(item.slug), field_key(item.field_name)):
            return item.slug
    return None
