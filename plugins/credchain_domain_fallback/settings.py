"""The domain-fallback provider's settings: seed 002's plugin settings, over the REST API.

```toml
[providers.windows]
type = "domain-fallback"
connection = "primary"          # a [providers.NAME] table of type "thycotic": URL, TLS, login
domains = ["CORP", "LAB"]       # "Include domain credentials for" (or "CORP, LAB")
domain_field = "Domain"         # Domain Field
machine_field = "Machine"       # Machine Field
default_domain = "CORP"         # Default Domain, for assets whose domain is not known
fallback_to_local = true        # "Enable fall-back to local account" (needs username)
username = "svc-scan"           # the account to look for (bare name); optional
organization = "\\Scan Accounts"  # only secrets in this folder and below (path or id)

[providers.windows.domain_map]  # DNS suffix -> domain name; else the suffix's first label
"corp.example.com" = "CORP"
```
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from credchain.provider import ProviderSettings
from credchain_domain_fallback.keys import normalize_domain
from credchain_thycotic.client import CredentialFields

__all__ = ["DomainFallbackSettings"]


class DomainFallbackSettings(ProviderSettings):
    """Settings of one domain-fallback chain entry (see docs/domain-fallback.md)."""

    connection: str = Field(min_length=1)
    domains: tuple[str, ...] = ()
    domain_field: str = Field(default="Domain", min_length=1)
    machine_field: str = Field(default="Machine", min_length=1)
    default_domain: str | None = None
    fallback_to_local: bool = False
    username: str | None = None
    organization: str | int | None = None
    domain_map: dict[str, str] = Field(default_factory=dict)
    qualify_username: bool = True
    username_field: str = Field(default="Username", min_length=1)
    password_field: str = Field(default="Password", min_length=1)
    privilege_password_field: str | None = None

    @field_validator("domains", mode="before")
    @classmethod
    def _split_domains(cls, value: Any) -> Any:
        # The seed's field is one comma-separated text box; TOML lists work too.
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("username")
    @classmethod
    def _bare_username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value or "\\" in value or "@" in value:
            raise ValueError(
                "must be a bare account name such as svc-scan: the domain comes from the "
                "asset (see domains and default_domain)"
            )
        return value

    @field_validator("domain_map")
    @classmethod
    def _suffixes(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned = {}
        for suffix, domain in value.items():
            key = suffix.strip().strip(".").casefold()
            if not key or not domain.strip() or "." in domain:
                raise ValueError('maps a DNS suffix to a domain name: "corp.example.com" = "CORP"')
            cleaned[key] = domain.strip().upper()
        return cleaned

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.fallback_to_local and not self.username:
            raise ValueError(
                "fallback_to_local needs username: the local account is found by its name"
            )
        default = self.default_domain
        if default is not None and normalize_domain(default, self.domain_map) not in (
            self.domain_names
        ):
            raise ValueError(
                f"default_domain {default!r} must be one of domains, or it could never match"
            )
        if isinstance(self.organization, str) and not self.organization.strip("\\/ "):
            raise ValueError("organization must be a folder path such as \\Scan Accounts or an id")
        return self

    @property
    def domain_names(self) -> frozenset[str]:
        """``domains`` as compared: upper-case names, DNS names mapped (``normalize_domain``)."""
        return frozenset(normalize_domain(name, self.domain_map) for name in self.domains)

    @property
    def credential_fields(self) -> CredentialFields:
        return CredentialFields(
            self.username_field, self.password_field, self.privilege_password_field
        )
