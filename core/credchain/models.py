"""The two contracts with the scanner: the query it asks with and the SAFE credential dict it gets.

The scanner gives ``query_data`` as SAFE does: ``asset_name``, ``ip_address`` (an IP address or a
host name) and ``cmdb_id``; any may be missing, one at least is present. The answer is always the
SAFE dict ``{"username", "password" (base64), "privilegePassword" (base64, optional)}``.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from credchain.errors import CredentialFormatError, QueryError

__all__ = ["QUERY_KEYS", "AssetQuery", "SafeCredential", "decode_base64", "encode_base64"]

#: the keys of SAFE's ``query_data``, in SAFE's order
QUERY_KEYS = ("asset_name", "ip_address", "cmdb_id")

_MAX_QUERY_VALUE = 1024


def _clean_query_value(value: object, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text, not {type(value).__name__}")
    value = value.strip()
    if not value:
        return None
    if len(value) > _MAX_QUERY_VALUE:
        raise ValueError(f"{key} is longer than {_MAX_QUERY_VALUE} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"{key} contains a control character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON can carry one, no vault can be asked
            raise ValueError(f"{key} is not valid Unicode text (a lone surrogate)") from None
    return value


class AssetQuery(BaseModel):
    """What the scanner knows of the asset it is about to assess.

    Values are stripped; an empty value counts as missing. ``domain`` is an optional hint from
    scanners that know the asset's domain.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    asset_name: str | None = None
    ip_address: str | None = None
    cmdb_id: str | None = None
    domain: str | None = None

    def __init__(
        self,
        asset_name: str | None = None,
        ip_address: str | None = None,
        cmdb_id: str | None = None,
        domain: str | None = None,
    ) -> None:
        super().__init__(
            asset_name=asset_name, ip_address=ip_address, cmdb_id=cmdb_id, domain=domain
        )

    @field_validator("asset_name", "ip_address", "cmdb_id", "domain", mode="before")
    @classmethod
    def _clean(cls, value: object, info: Any) -> str | None:
        return _clean_query_value(value, info.field_name)

    @model_validator(mode="after")
    def _one_key_at_least(self) -> Self:
        if not (self.asset_name or self.ip_address or self.cmdb_id):
            raise ValueError("a query needs at least one of asset_name, ip_address, cmdb_id")
        return self

    @classmethod
    def from_query_data(cls, data: Mapping[str, object]) -> AssetQuery:
        """Build a query from SAFE's ``query_data`` (plus an optional ``domain``).

        Raises ``QueryError`` naming the offending key.
        """
        if not isinstance(data, Mapping):
            raise QueryError(f"a query must be a JSON object, not {type(data).__name__}")
        # str(): a Python caller's mapping may have keys that are not text (and do not sort)
        unknown = sorted(str(key) for key in set(data) - {*QUERY_KEYS, "domain"})
        if unknown:
            raise QueryError(f"unknown query key {unknown[0]!r}", key=unknown[0])
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(part) for part in error["loc"]) or None
            message = error["msg"].removeprefix("Value error, ")
            raise QueryError(message, key=key) from None

    def to_query_data(self) -> dict[str, str | None]:
        """SAFE's ``query_data``: exactly ``asset_name``, ``ip_address`` and ``cmdb_id``."""
        return {
            "asset_name": self.asset_name,
            "ip_address": self.ip_address,
            "cmdb_id": self.cmdb_id,
        }

    def label(self) -> str:
        """A short name for messages: the first key present."""
        return self.asset_name or self.ip_address or self.cmdb_id or "?"


def encode_base64(text: str) -> str:
    """Standard base64 of the UTF-8 text, no newline."""
    return binascii.b2a_base64(text.encode(), newline=False).decode("ascii")


def decode_base64(value: object, key: str) -> str:
    """Decode a SAFE base64 value to text.

    ``base64.encodestring``-style values (line breaks every 76 characters, trailing newline) are
    accepted. Anything else that is not strict base64 of UTF-8 text raises
    ``CredentialFormatError`` naming ``key``; the message never repeats the value.
    """
    if not isinstance(value, str):
        raise CredentialFormatError(
            f"{key!r} must be a base64 string, not {type(value).__name__}", key=key
        )
    compact = value.replace("\r\n", "").replace("\n", "")
    try:
        raw = binascii.a2b_base64(compact.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise CredentialFormatError(f"{key!r} is not valid base64", key=key) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialFormatError(f"{key!r} does not decode to UTF-8 text", key=key) from None


class SafeCredential(BaseModel):
    """A credential for one asset; ``to_safe_dict()`` gives the scanner's contract.

    Passwords are ``SecretStr``: ``repr``, ``str`` and serialisation show ``**********``.
    ``source`` is the chain entry that found it; ``detail`` how (rule, secret id), never a secret;
    ``reference`` the provider's own id of what it read (a Secret Server secret id), for audits.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str
    password: SecretStr
    privilege_password: SecretStr | None = None
    source: str = ""
    detail: str | None = None
    reference: str | None = None

    @field_validator("username")
    @classmethod
    def _username_present(cls, value: str) -> str:
        if not value:
            raise ValueError("username must not be empty")
        return value

    def to_safe_dict(self) -> dict[str, str]:
        """The SAFE dict: standard base64, no newline; ``privilegePassword`` only when present."""
        result = {
            "username": self.username,
            "password": encode_base64(self.password.get_secret_value()),
        }
        if self.privilege_password is not None:
            result["privilegePassword"] = encode_base64(self.privilege_password.get_secret_value())
        return result

    @classmethod
    def from_safe_dict(
        cls, data: object, *, source: str = "", detail: str | None = None
    ) -> SafeCredential:
        """Read a SAFE dict, as custom scripts return it.

        Raises ``CredentialFormatError`` naming the key at fault.
        """
        if not isinstance(data, Mapping):
            raise CredentialFormatError(
                f"a SAFE credential must be a dict, not {type(data).__name__}"
            )
        unknown = sorted(
            str(key) for key in set(data) - {"username", "password", "privilegePassword"}
        )
        if unknown:
            raise CredentialFormatError(f"unknown key {unknown[0]!r}", key=unknown[0])
        username = data.get("username")
        if not isinstance(username, str) or not username:
            raise CredentialFormatError("'username' must be non-empty text", key="username")
        if "password" not in data:
            raise CredentialFormatError("'password' is missing", key="password")
        password = decode_base64(data["password"], "password")
        privilege = data.get("privilegePassword")
        if privilege == "":
            privilege = None  # an empty optional value means "none", as SAFE's template allows
        return cls(
            username=username,
            password=SecretStr(password),
            privilege_password=(
                None
                if privilege is None
                else SecretStr(decode_base64(privilege, "privilegePassword"))
            ),
            source=source,
            detail=detail,
        )
