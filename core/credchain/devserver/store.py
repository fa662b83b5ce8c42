"""The in-memory vault: users, folders, templates and secrets, and who may see what.

Every method takes the calling user and enforces Secret Server's rules: the admin sees everything,
other users only secrets shared with them (``API_AccessDenied``, status 400, as the real server
answers; also for ids that do not exist, so ids cannot be probed).

``create`` (``POST api/v1/secrets``) refuses, each with its own ``errorCode``: a template or
folder that does not exist, a folder the user may not add secrets to (``API_AccessDenied``), an
empty required field, and a name already taken in the folder. Each secret made records who made
it and when (``created``), with no value in it.

``search`` does not scan: names and the searchable field values (not passwords, not files) are
indexed (``credchain.textindex``) as secrets are added, and the other filters are checked on
what the index found, so the answer is the scan's. A record changed in place (its ``name`` or
an item) must be indexed again with ``reindex(record)``, as the API's ``PUT`` does.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from credchain.textindex import TextIndex

from .datafile import (
    BUILTIN_TEMPLATES,
    Dataset,
    FileValue,
    SecretSpec,
    TemplateSpec,
    UserSpec,
)

__all__ = ["ApiError", "Creation", "SearchFilter", "SecretRecord", "Store", "User"]

CHECK_OUT_MINUTES = 30


class ApiError(Exception):
    """An error Secret Server reports as ``{"errorCode", "message"}``."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(error_code)
        self.status, self.error_code, self.message = status, error_code, message


def access_denied() -> ApiError:
    return ApiError(400, "API_AccessDenied", "Access Denied")


@dataclass(slots=True)
class User:
    id: int
    username: str
    password: str = field(repr=False)
    domain: str | None = None
    is_admin: bool = False


@dataclass(slots=True)
class SecretRecord:
    id: int
    name: str
    folder_id: int
    template: TemplateSpec
    items: dict[str, str | FileValue]
    active: bool = True
    requires_comment: bool = False
    check_out_enabled: bool = False
    permissions: frozenset[str] = frozenset()
    checked_out_by: User | None = None
    checked_out_until: float = 0.0
    #: the user who created it through the API (``None``: from the dataset)
    created_by: str | None = None

    def value(self, slug: str) -> str:
        raw = self.items.get(slug, "")
        return raw.content if isinstance(raw, FileValue) else raw


@dataclass(frozen=True, slots=True)
class Creation:
    """Who created which secret, where and when (clock seconds): never a value."""

    secret_id: int
    name: str
    folder_id: int
    template_id: int
    username: str
    at: float

    def as_json(self) -> dict[str, object]:
        return {
            "secretId": self.secret_id,
            "name": self.name,
            "folderId": self.folder_id,
            "secretTemplateId": self.template_id,
            "createdBy": self.username,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """``filter.*`` parameters of ``GET api/v1/secrets`` and ``secrets/lookup``."""

    search_text: str = ""
    search_field: str = ""
    is_exact_match: bool = False
    folder_id: int | None = None
    include_sub_folders: bool = False
    template_id: int | None = None
    include_inactive: bool = False


class Store:
    """Thread-safe: the Python API and the server thread share it."""

    def __init__(self, dataset: Dataset, admin_password: str, clock: Callable[[], float]) -> None:
        self._dataset, self._admin_password, self.clock = dataset, admin_password, clock
        self.lock = threading.RLock()
        self.reset()

    # -- loading -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the loaded dataset: added secrets and users go, check-outs are released."""
        with self.lock:
            self.templates: dict[int, TemplateSpec] = {t.id: t for t in BUILTIN_TEMPLATES}
            self.templates.update({t.id: t for t in self._dataset.templates})
            self.folders = {f.id: f for f in self._dataset.folders}
            admin = User(1, self._dataset.admin.username, self._admin_password, is_admin=True)
            self.users: list[User] = [admin]
            self.clients: dict[str, tuple[str, User]] = {}
            self.secrets: dict[int, SecretRecord] = {}
            self.created: list[Creation] = []
            self._ids = itertools.count(1)
            self._names: TextIndex[int] = TextIndex()
            #: template id -> (the template, field slug -> the values of that field)
            self._values: dict[int, tuple[TemplateSpec, dict[str, TextIndex[int]]]] = {}
            for spec in self._dataset.users:
                self.add_user(spec)
            for secret in self._dataset.secrets:
                self.add_secret(secret)

    def add_user(self, spec: UserSpec) -> User:
        with self.lock:
            user = User(len(self.users) + 1, spec.username, spec.password, spec.domain)
            self.users.append(user)
            for client in spec.clients:
                self.clients[client.client_id] = (client.client_secret, user)
            return user

    def add_secret(self, spec: SecretSpec) -> SecretRecord:
        """Add a secret (id assigned when absent); raises ``ApiError`` for an unknown template."""
        with self.lock:
            template = self.templates.get(spec.template_id)
            if template is None:
                raise ApiError(400, "API_InvalidTemplate", "Secret template not found.")
            secret_id = spec.id if spec.id is not None else self._next_id()
            record = SecretRecord(
                id=secret_id,
                name=spec.name,
                folder_id=spec.folder_id,
                template=template,
                items={f.slug: spec.items.get(f.slug, "") for f in template.fields},
                active=spec.active,
                requires_comment=spec.requires_comment,
                check_out_enabled=spec.check_out_enabled,
                permissions=frozenset(spec.permissions),
            )
            self._unindex(secret_id)
            self.secrets[secret_id] = record
            self.reindex(record)
            return record

    def reindex(self, secret: SecretRecord) -> None:
        """Index ``secret`` by its name and searchable fields as they are now."""
        with self.lock:
            self._names.put(secret.id, secret.name)
            template = secret.template
            _, by_slug = self._values.setdefault(template.id, (template, {}))
            for template_field in template.fields:
                if not (template_field.is_password or template_field.is_file):
                    index = by_slug.setdefault(template_field.slug, TextIndex())
                    index.put(secret.id, secret.value(template_field.slug))

    def _unindex(self, secret_id: int) -> None:
        """Drop a secret's entries from the index (lock held)."""
        old = self.secrets.get(secret_id)
        if old is None:
            return
        self._names.discard(secret_id)
        _, by_slug = self._values.get(old.template.id, (old.template, {}))
        for index in by_slug.values():
            index.discard(secret_id)

    def create(self, user: User, spec: SecretSpec) -> SecretRecord:
        """Create a secret as ``user`` by the rules of the module docstring."""
        with self.lock:
            template = self.templates.get(spec.template_id)
            if template is None:
                raise ApiError(400, "API_InvalidTemplate", "Secret template not found.")
            if not spec.name.strip():
                raise ApiError(400, "API_SecretNameRequired", "The Secret name is required.")
            folder = self.folders.get(spec.folder_id)
            if spec.folder_id != -1 and folder is None:
                raise ApiError(400, "API_FolderNotFound", "Folder not found.")
            may_add = user.is_admin or (folder is not None and user.username in folder.permissions)
            if not may_add:
                raise access_denied()
            for template_field in template.fields:
                value = spec.items.get(template_field.slug, "")
                content = value.content if isinstance(value, FileValue) else value
                if template_field.required and not content.strip():
                    raise ApiError(
                        400,
                        "API_RequiredFieldMissing",
                        f"The field {template_field.name} is required.",
                    )
            wanted = spec.name.strip().casefold()
            for other in self.secrets.values():
                same = other.folder_id == spec.folder_id and other.name.casefold() == wanted
                if same and other.active:
                    raise ApiError(
                        400,
                        "API_DuplicateSecretName",
                        "A Secret with this name already exists in this folder.",
                    )
            record = self.add_secret(spec.model_copy(update={"id": None}))
            record.created_by = user.username
            self.created.append(
                Creation(
                    record.id,
                    record.name,
                    record.folder_id,
                    template.id,
                    user.username,
                    self.clock(),
                )
            )
            return record

    def _next_id(self) -> int:
        while True:
            candidate = next(self._ids)
            if candidate not in self.secrets:
                return candidate

    # -- users ---------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, domain: str | None) -> User | None:
        folded = username.casefold()
        for user in self.users:
            same_domain = (domain or "").casefold() == (user.domain or "").casefold()
            if user.username.casefold() == folded and same_domain and user.password == password:
                return user
        return None

    def client(self, client_id: str, client_secret: str) -> User | None:
        found = self.clients.get(client_id)
        return found[1] if found is not None and found[0] == client_secret else None

    # -- reading -------------------------------------------------------------------------------

    @staticmethod
    def can_view(user: User, secret: SecretRecord) -> bool:
        return user.is_admin or user.username in secret.permissions

    def get(self, user: User, secret_id: int) -> SecretRecord:
        secret = self.secrets.get(secret_id)
        if secret is None or not self.can_view(user, secret):
            raise access_denied()
        return secret

    def folder_path(self, folder_id: int) -> str:
        parts: list[str] = []
        current = self.folders.get(folder_id)
        while current is not None:
            parts.append(current.name)
            current = self.folders.get(current.parent) if current.parent is not None else None
        return "\\" + "\\".join(reversed(parts)) if parts else "\\"

    def folder_by_path(self, path: str) -> int:
        wanted = _normalise_path(path)
        for folder_id in self.folders:
            if self.folder_path(folder_id).casefold() == wanted.casefold():
                return folder_id
        raise ApiError(400, "API_FolderNotFound", "Folder not found.")

    def by_path(self, user: User, path: str) -> SecretRecord:
        wanted = _normalise_path(path).casefold()
        for secret in self.secrets.values():
            folder = self.folder_path(secret.folder_id)
            full = (folder.rstrip("\\") + "\\" + secret.name).casefold()
            if full == wanted and self.can_view(user, secret):
                return secret
        raise access_denied()

    def _descendants(self, folder_id: int) -> set[int]:
        found, frontier = {folder_id}, [folder_id]
        while frontier:
            parent = frontier.pop()
            children = [f.id for f in self.folders.values() if f.parent == parent]
            found.update(children)
            frontier.extend(children)
        return found

    def search(self, user: User, query: SearchFilter) -> list[SecretRecord]:
        folders: set[int] | None = None
        if query.folder_id is not None:
            folders = (
                self._descendants(query.folder_id)
                if query.include_sub_folders
                else {query.folder_id}
            )
        text = query.search_text.casefold()
        with self.lock:
            candidates: Iterable[SecretRecord]
            if text:
                ids = self._matching(query)
                candidates = [self.secrets[i] for i in ids]
            else:
                candidates = list(self.secrets.values())
        found = []
        for secret in candidates:
            if not self.can_view(user, secret) or not (secret.active or query.include_inactive):
                continue
            if folders is not None and secret.folder_id not in folders:
                continue
            if query.template_id is not None and secret.template.id != query.template_id:
                continue
            if text and not _matches(_haystack(secret, query.search_field), text, query):
                continue
            found.append(secret)
        found.sort(key=lambda s: (s.name.casefold(), s.id))
        return found

    def _matching(self, query: SearchFilter) -> set[int]:
        """The ids whose name (or ``search_field``) matches the search text (lock held)."""
        exact = query.is_exact_match
        if not query.search_field:
            return self._names.matching(query.search_text, exact=exact)
        ids: set[int] = set()
        for template, by_slug in self._values.values():
            template_field = template.field(query.search_field)
            index = by_slug.get(template_field.slug) if template_field is not None else None
            if index is not None:
                ids |= index.matching(query.search_text, exact=exact)
        return ids

    # -- check-out -----------------------------------------------------------------------------

    def holder(self, secret: SecretRecord) -> User | None:
        """Who has ``secret`` checked out now (check-outs lapse after their interval)."""
        if secret.checked_out_by is not None and self.clock() >= secret.checked_out_until:
            secret.checked_out_by = None
        return secret.checked_out_by

    def check_out(self, user: User, secret: SecretRecord) -> None:
        with self.lock:
            holder = self.holder(secret)
            if holder is not None and holder.id != user.id:
                raise ApiError(
                    400, "API_SecretCheckedOut", "The Secret is checked out by another user."
                )
            secret.checked_out_by = user
            secret.checked_out_until = self.clock() + CHECK_OUT_MINUTES * 60

    def check_in(self, user: User, secret: SecretRecord, force: bool) -> None:
        with self.lock:
            holder = self.holder(secret)
            if holder is not None and holder.id != user.id and not (force and user.is_admin):
                raise ApiError(
                    400, "API_SecretCheckedOut", "The Secret is checked out by another user."
                )
            secret.checked_out_by = None


def _normalise_path(path: str) -> str:
    # As python-tss-sdk does: runs of / or \ become one backslash, one leading backslash.
    parts = [p for p in path.replace("/", "\\").split("\\") if p]
    return "\\" + "\\".join(parts)


def _haystack(secret: SecretRecord, search_field: str) -> str:
    if not search_field:
        return secret.name
    template_field = secret.template.field(search_field)
    if template_field is None or template_field.is_password or template_field.is_file:
        return ""
    return secret.value(template_field.slug)


def _matches(value: str, text: str, query: SearchFilter) -> bool:
    folded = value.casefold()
    return folded == text if query.is_exact_match else text in folded
