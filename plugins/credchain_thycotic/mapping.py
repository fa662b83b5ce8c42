"""Which Secret Server field an asset is found by, and which fields hold its credential.

SAFE keeps this in ``thycotic_mapping.json`` (seed 000, FAQ 2)::

    {"safeFieldName": "asset_name", "thycoticFieldName": "Secret Name",
     "extendedFields": ["password", "username"]}

``extendedFields`` lists the password field, then the username field, then (credchain's
addition) the privilege password field; an entry named ``username`` or ``password`` (any case)
is taken as that field wherever it stands. Files are read and written in this format, so an
admin's existing file works unchanged; a key other than those three is an error naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credchain.errors import ConfigError
from credchain.files import atomic_write, read_text_capped
from credchain_thycotic.client import CredentialFields

__all__ = ["MAPPING_FILE", "Mapping", "SafeField", "read_mapping_file", "write_mapping_file"]

MAPPING_FILE = "thycotic_mapping.json"
SafeField = Literal["asset_name", "ip_address", "cmdb_id"]
MAX_MAPPING_BYTES = 64 * 1024
#: the keys of SAFE's file; any other is a mistake (a misspelt key would be silently ignored)
_SAFE_KEYS = (
    "safeFieldName",
    "thycoticFieldName",
    "extendedFields",
)  # a mapping is a few lines; more is not a mapping file


class Mapping(BaseModel):
    """SAFE field -> Thycotic search field, and the credential's field names (case-sensitive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    safe_field: SafeField = "asset_name"
    thycotic_field: str = Field(default="Secret Name", min_length=1)
    username_field: str = Field(default="username", min_length=1)
    password_field: str = Field(default="password", min_length=1)
    privilege_password_field: str | None = None

    @property
    def credential_fields(self) -> CredentialFields:
        return CredentialFields(
            self.username_field, self.password_field, self.privilege_password_field
        )

    def to_safe_json(self) -> dict[str, object]:
        return {
            "safeFieldName": self.safe_field,
            "thycoticFieldName": self.thycotic_field,
            "extendedFields": self.credential_fields.names,
        }

    @classmethod
    def from_safe_json(cls, data: object, *, where: str = MAPPING_FILE) -> Mapping:
        """Read SAFE's format; raises ``ConfigError`` naming the file and key."""
        if not isinstance(data, dict):
            raise ConfigError("must be a JSON object", path=where)
        unknown = sorted(str(key) for key in data if key not in _SAFE_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown key (the keys are {', '.join(_SAFE_KEYS)}; they are case-sensitive)",
                path=where,
                key=unknown[0],
            )
        fields = data.get("extendedFields", ["password", "username"])
        if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
            raise ConfigError("must be a list of field names", path=where, key="extendedFields")
        if len(fields) < 2 or len(fields) > 3:
            raise ConfigError(
                "must name the password field, the username field and optionally the "
                "privilege password field",
                path=where,
                key="extendedFields",
            )
        password, username = fields[0], fields[1]
        lowered = [f.lower() for f in fields[:2]]
        if lowered == ["username", "password"]:
            username, password = fields[0], fields[1]
        try:
            return cls(
                safe_field=data.get("safeFieldName", "asset_name"),
                thycotic_field=data.get("thycoticFieldName", "Secret Name"),
                username_field=username,
                password_field=password,
                privilege_password_field=fields[2] if len(fields) == 3 else None,
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            key = {"safe_field": "safeFieldName", "thycotic_field": "thycoticFieldName"}.get(
                str(error["loc"][0]), "extendedFields"
            )
            raise ConfigError(error["msg"], path=where, key=key) from None


def read_mapping_file(path: Path) -> Mapping:
    try:
        data = json.loads(read_text_capped(path, MAX_MAPPING_BYTES, "the mapping file"))
    except FileNotFoundError:
        raise ConfigError("the mapping file does not exist", path=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the mapping file: {exc}", path=str(path)) from None
    except RecursionError:
        raise ConfigError(
            "cannot read the mapping file: not JSON (nested too deeply)", path=str(path)
        ) from None
    except ValueError as exc:  # a NUL in the path; a number over int()'s digit limit
        raise ConfigError(f"cannot read the mapping file: {exc}", path=str(path)) from None
    return Mapping.from_safe_json(data, where=str(path))


def write_mapping_file(path: Path, mapping: Mapping) -> None:
    """Write ``thycotic_mapping.json`` atomically, mode 0600."""
    atomic_write(path, json.dumps(mapping.to_safe_json()) + "\n")
