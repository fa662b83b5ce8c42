"""The Thycotic provider's settings: seed 000 section 2's prompts and defaults, and more.

```toml
[providers.thycotic]
url = "https://vault.example.com"          # Thycotic URL
auth_path = "SecretServer/oauth2/token"    # Thycotic authorization URL path (default)
secrets_path = "SecretServer/api/v1/secrets"  # Thycotic secrets URL path (default)
port = 443                                 # Thycotic port (default)
username = "svc-credchain"
password = "enc:..."
verify_ssl = true                          # false: pin fingerprint_sha256 instead
token_cache = true                         # reuse the token across runs (encrypted, in the home)

[providers.thycotic.mapping]               # or mapping_file = "thycotic_mapping.json"
safe_field = "asset_name"                  # asset_name, ip_address or cmdb_id
thycotic_field = "Secret Name"             # case-sensitive; "Secret Name" searches names
username_field = "username"
password_field = "password"
privilege_password_field = "Privilege Password"   # optional
```

The full URL of each endpoint is ``url`` (with ``port``) followed by ``/`` and the path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from credchain.provider import ProviderSettings
from credchain.tls import TLSPolicy, normalize_fingerprint
from credchain_thycotic.mapping import Mapping, read_mapping_file

__all__ = ["SECRET_NAME", "ThycoticSettings"]

#: the Thycotic field name that means "the secret's name" (SAFE's wording)
SECRET_NAME = "Secret Name"  # noqa: S105 - a field label, not a password


class ThycoticSettings(ProviderSettings):
    """Settings of one Secret Server chain entry."""

    url: str
    auth_path: str = "SecretServer/oauth2/token"
    secrets_path: str = "SecretServer/api/v1/secrets"
    port: int = Field(default=443, ge=1, le=65535)
    grant: Literal["password", "client_credentials"] = "password"
    username: str | None = None
    password: SecretStr | None = None
    domain: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    verify_ssl: bool = True
    fingerprint_sha256: str | None = None
    ca_bundle: str | None = None
    allow_http: bool = False
    comment: str | None = None
    multiple_matches: Literal["error", "first"] = "error"
    exact_match: bool = True
    mapping: Mapping | None = None
    mapping_file: str | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    #: seconds one vault request may take, retries, reads and waits included
    deadline: float = Field(default=30.0, gt=0)
    #: the longest Retry-After waited for, in seconds; a longer one gives up at once
    retry_after_max: float = Field(default=5.0, ge=0)
    pool_size: int = Field(default=16, ge=1, le=512)
    retries: int = Field(default=3, ge=0, le=10)
    token_margin: float = Field(default=60.0, ge=0)
    #: keep the access token encrypted in the home between runs (``credchain cache clear``)
    token_cache: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an https URL such as https://vault.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.strip().rstrip("/")

    @field_validator("fingerprint_sha256")
    @classmethod
    def _fingerprint(cls, value: str | None) -> str | None:
        return None if value is None else normalize_fingerprint(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.verify_ssl and self.fingerprint_sha256 is None:
            raise ValueError(
                "verify_ssl = false needs fingerprint_sha256: the server certificate's "
                "SHA-256 fingerprint to pin (there is no unverified mode)"
            )
        if self.verify_ssl and self.fingerprint_sha256 is not None:
            raise ValueError("fingerprint_sha256 is used only with verify_ssl = false")
        if not self.verify_ssl and self.ca_bundle:
            raise ValueError("ca_bundle is used only with verify_ssl = true")
        if self.grant == "password" and (not self.username or self.password is None):
            raise ValueError("the password grant needs username and password")
        if self.grant == "client_credentials" and (not self.client_id or not self.client_secret):
            raise ValueError("the client_credentials grant needs client_id and client_secret")
        if self.mapping is not None and self.mapping_file is not None:
            raise ValueError("give mapping or mapping_file, not both")
        url_port = urlsplit(self.url).port
        if url_port is not None and "port" in self.model_fields_set and url_port != self.port:
            raise ValueError(f"url says port {url_port} but port says {self.port}")
        return self

    @property
    def base_url(self) -> str:
        """``url`` with its port made explicit: what endpoint paths are appended to."""
        parts = urlsplit(self.url)
        port = parts.port or self.port
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        return f"{parts.scheme}://{host}:{port}{parts.path.rstrip('/')}"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def endpoint(self, path: str) -> str:
        return f"{self.base_url}/{path.strip('/')}"

    @property
    def tls_policy(self) -> TLSPolicy:
        if not self.verify_ssl:
            return TLSPolicy(fingerprint_sha256=self.fingerprint_sha256)
        return TLSPolicy(ca_bundle=self.ca_bundle)

    def resolved_mapping(self, home: Path) -> Mapping:
        """The mapping table, the mapping file (relative to the home), or the defaults."""
        if self.mapping is not None:
            return self.mapping
        if self.mapping_file is not None:
            path = Path(self.mapping_file).expanduser()
            return read_mapping_file(path if path.is_absolute() else home / path)
        return Mapping()
