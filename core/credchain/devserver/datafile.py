"""The ``--data`` JSON format (documented in docs/dev-server.md) and the built-in templates.

Keys are camelCase, as in Secret Server's own models. Secret items are keyed by field slug.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "BUILTIN_TEMPLATES",
    "Dataset",
    "FileValue",
    "FolderSpec",
    "SecretSpec",
    "TemplateField",
    "TemplateSpec",
    "UserSpec",
    "load_dataset",
]


#: the fields a template requires when it does not say
_REQUIRED = frozenset({"username", "password"})


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ClientCredential(_Model):
    """A client_id/client_secret pair for the client_credentials grant, acting as its user."""

    client_id: str
    client_secret: str


class UserSpec(_Model):
    username: str
    password: str
    domain: str | None = None
    clients: list[ClientCredential] = Field(default_factory=list)


class AdminSpec(_Model):
    username: str = "admin"
    password: str | None = None


class FolderSpec(_Model):
    id: int
    name: str
    parent: int | None = None
    #: users who may create secrets in the folder (Secret Server's "Add Secret"); the admin may
    permissions: list[str] = Field(default_factory=list)


class TemplateField(_Model):
    field_id: int
    name: str
    slug: str
    is_password: bool = False
    is_file: bool = False
    is_notes: bool = False
    description: str = ""
    #: a secret cannot be created without it; unset: the username and password fields are
    is_required: bool | None = None

    @property
    def required(self) -> bool:
        return self.is_required if self.is_required is not None else self.slug in _REQUIRED


class TemplateSpec(_Model):
    id: int
    name: str
    fields: list[TemplateField]

    def field(self, key: str) -> TemplateField | None:
        """The field whose slug or name is ``key`` (case-insensitive)."""
        folded = key.casefold()
        for candidate in self.fields:
            if candidate.slug.casefold() == folded or candidate.name.casefold() == folded:
                return candidate
        return None


class FileValue(_Model):
    """A file field's content: ``filename`` and the bytes as text (UTF-8)."""

    filename: str
    content: str


class SecretSpec(_Model):
    id: int | None = None
    name: str
    folder_id: int = -1
    template_id: int = 2
    items: dict[str, str | FileValue] = Field(default_factory=dict)
    active: bool = True
    requires_comment: bool = False
    check_out_enabled: bool = False
    permissions: list[str] = Field(default_factory=list)


class Dataset(_Model):
    admin: AdminSpec = Field(default_factory=AdminSpec)
    users: list[UserSpec] = Field(default_factory=list)
    folders: list[FolderSpec] = Field(default_factory=list)
    templates: list[TemplateSpec] = Field(default_factory=list)
    secrets: list[SecretSpec] = Field(default_factory=list)


def load_dataset(path: Path) -> Dataset:
    """Read and validate a ``--data`` file (raises ``pydantic.ValidationError`` or ``OSError``)."""
    return Dataset.model_validate_json(path.read_bytes())


def _f(field_id: int, name: str, slug: str, **flags: Any) -> TemplateField:
    return TemplateField(field_id=field_id, name=name, slug=slug, **flags)


_NOTES = _f(8, "Notes", "notes", is_notes=True)

#: Templates as a fresh Secret Server has them (plus the scanner's "Scan Account").
#: Password (id 2) keeps the field ids of seed 003: Resource 60, Username 61, Password 7, Notes 8.
BUILTIN_TEMPLATES: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        id=2,
        name="Password",
        fields=[
            _f(60, "Resource", "resource"),
            _f(61, "Username", "username"),
            _f(7, "Password", "password", is_password=True),
            _NOTES,
        ],
    ),
    TemplateSpec(
        id=6001,
        name="Active Directory Account",
        fields=[
            _f(6001_1, "Domain", "domain"),
            _f(6001_2, "Username", "username"),
            _f(6001_3, "Password", "password", is_password=True),
            _f(6001_4, "Notes", "notes", is_notes=True),
        ],
    ),
    TemplateSpec(
        id=6003,
        name="Windows Account",
        fields=[
            _f(6003_1, "Machine", "machine"),
            _f(6003_2, "Username", "username"),
            _f(6003_3, "Password", "password", is_password=True),
            _f(6003_4, "Notes", "notes", is_notes=True),
        ],
    ),
    TemplateSpec(
        id=6007,
        name="Unix Account (SSH)",
        fields=[
            _f(6007_1, "Machine", "machine"),
            _f(6007_2, "Username", "username"),
            _f(6007_3, "Password", "password", is_password=True),
            _f(6007_4, "Private Key", "private-key", is_file=True),
            _f(6007_5, "Private Key Passphrase", "private-key-passphrase", is_password=True),
            _f(6007_6, "Notes", "notes", is_notes=True),
        ],
    ),
    TemplateSpec(
        id=6100,
        name="Scan Account",
        fields=[
            _f(6100_1, "Machine", "machine"),
            _f(6100_2, "Domain", "domain"),
            _f(6100_3, "Username", "username"),
            _f(6100_4, "Password", "password", is_password=True),
            _f(6100_5, "Privilege Password", "privilege-password", is_password=True),
            _f(6100_6, "Notes", "notes", is_notes=True),
        ],
    ),
    # Seed 004's certificate secret; the key and the PFX are as secret as a password.
    TemplateSpec(
        id=6200,
        name="Certificate",
        fields=[
            _f(6200_1, "Certificate", "certificate"),
            _f(6200_2, "Private Key", "private-key", is_password=True),
            _f(6200_3, "PFX", "pfx", is_password=True),
            _f(6200_4, "Password", "password", is_password=True),
            _f(6200_5, "Notes", "notes", is_notes=True),
        ],
    ),
)
