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
client_cert = "tls/client.pem"             # mutual TLS (optional): certificate to present,
client_key = "tls/client.key"              #   its key (default: in client_cert),
client_key_password = "enc:..."            #   and the key's password if it is encrypted
token_cache = true                         # reuse the token across runs (encrypted, in the home)
prefetch = false                           # true: list the secrets once per scan (docs/thycotic.md)

[providers.thycotic.mapping]               # or mapping_file = "thycotic_mapping.json"
safe_field = "asset_name"                  # asset_name, ip_address or cmdb_id
thycotic_field = "Secret Name"             # case-sensitive; "Secret Name" searches names
username_field = "username"
password_field = "password"
privilege_password_field = "Privilege Password"   # optional
```

The full URL of each endpoint is ``url`` (with ``port``) followed by ``/`` and the path.

Values that cannot work are refused with the key named: a URL over 2048 characters or with
control characters, a NUL byte in a path, timeouts that are not finite or not in range
(``MAX_SECONDS``), an absolute ``ca_bundle`` that is no PEM file, an absolute ``client_cert`` and
``client_key`` that are no certificate and key of each other (or whose key the password does not
open). A relative ``ca_bundle``, ``client_cert``, ``client_key`` or ``mapping_file`` is read from
the credchain home (``anchored``, ``resolved_mapping``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from credchain.provider import ConfigError, ProviderSettings
from credchain.tls import (
    ClientCertificate,
    TLSPolicy,
    check_ca_bundle,
    check_client_certificate,
    normalize_fingerprint,
)
from credchain_thycotic.mapping import Mapping, read_mapping_file

__all__ = ["MAX_SECONDS", "MAX_URL", "SECRET_NAME", "ThycoticSettings", "quoted"]

#: the Thycotic field name that means "the secret's name" (SAFE's wording)
SECRET_NAME = "Secret Name"  # noqa: S105 - a field label, not a password
#: the longest timeout, deadline or Retry-After wait: past it a lookup is as good as lost
MAX_SECONDS = 300.0
#: the longest ``url`` and endpoint path (browsers and proxies commonly stop near 2 kB)
MAX_URL = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def quoted(text: str) -> str:
    """``text`` in single quotes as the admin typed it: ``'CORP\\svc-scan'`` keeps one backslash
    (``repr`` would double it); only control characters are escaped."""
    return "'" + _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text) + "'"


def _seconds(default: float, *, zero: bool = False) -> float:
    """A finite number of seconds up to ``MAX_SECONDS``; above 0 (or at least 0 with ``zero``)."""
    if zero:
        return Field(default=default, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    return Field(default=default, gt=0, le=MAX_SECONDS, allow_inf_nan=False)


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
    #: mutual TLS: the PEM certificate presented to the vault, its key, and the key's password
    client_cert: str | None = None
    client_key: str | None = None
    client_key_password: SecretStr | None = None
    allow_http: bool = False
    comment: str | None = None
    multiple_matches: Literal["error", "first"] = "error"
    exact_match: bool = True
    mapping: Mapping | None = None
    mapping_file: str | None = None
    connect_timeout: float = _seconds(5.0)
    read_timeout: float = _seconds(30.0)
    #: seconds one vault request may take, retries, reads and waits included
    deadline: float = _seconds(30.0)
    #: the longest Retry-After waited for, in seconds; a longer one gives up at once
    retry_after_max: float = _seconds(5.0, zero=True)
    pool_size: int = Field(default=16, ge=1, le=512)
    retries: int = Field(default=3, ge=0, le=10)
    token_margin: float = Field(default=60.0, ge=0, le=86400, allow_inf_nan=False)
    #: keep the access token encrypted in the home between runs (``credchain cache clear``)
    token_cache: bool = True
    #: list every secret the account may see once per scan and answer assets from that list
    #: (docs/thycotic.md, "Inventory prefetch": what it costs in audit and when not to use it)
    prefetch: bool = False
    #: more secrets than this and the scan searches per asset instead (one warning)
    prefetch_max_secrets: int = Field(default=50_000, ge=1, le=1_000_000)
    #: seconds a listing is used for before it is read again (the agent; long scans)
    prefetch_ttl: float = Field(default=900.0, gt=0, le=86400, allow_inf_nan=False)
    #: secrets per listing request (``take``)
    prefetch_page_size: int = Field(default=500, ge=10, le=10_000)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        # Checked before anything else, and never repeated: a message must stay one line.
        if len(value) > MAX_URL:
            raise ValueError(f"is longer than {MAX_URL} characters")
        if _CONTROL.search(value.strip()):
            raise ValueError("must not contain control characters")
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an https URL such as https://vault.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.strip().rstrip("/")

    @field_validator(
        "auth_path", "secrets_path", "ca_bundle", "client_cert", "client_key", "mapping_file"
    )
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "\x00" in value:
            raise ValueError("must not contain a NUL byte")
        if len(value) > MAX_URL:
            raise ValueError(f"is longer than {MAX_URL} characters")
        return value

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute():
            return value  # checked by ``anchored``, which knows the home
        check_ca_bundle(str(path))
        return str(path)

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
        if self.client_cert is None and (
            self.client_key is not None or self.client_key_password is not None
        ):
            raise ValueError("client_key and client_key_password need client_cert")
        if self.client_cert is not None and self._client_paths_absolute():
            self._check_client(self.client_cert, self.client_key)
        if self.mapping is not None and self.mapping_file is not None:
            raise ValueError("give mapping or mapping_file, not both")
        url_port = urlsplit(self.url).port
        if url_port is not None and "port" in self.model_fields_set and url_port != self.port:
            raise ValueError(f"url says port {url_port} but port says {self.port}")
        return self

    def _client_paths_absolute(self) -> bool:
        paths = [p for p in (self.client_cert, self.client_key) if p is not None]
        return all(Path(p).expanduser().is_absolute() for p in paths)

    def _check_client(self, cert: str, key: str | None, *, home: bool = False) -> None:
        """Raise (``ValueError``, or ``ConfigError`` with ``home``) unless cert and key load."""
        try:
            check_client_certificate(cert, key, self.client_key_password)
        except ValueError as exc:
            setting = str(getattr(exc, "key", "client_cert"))
            if not home:
                raise ValueError(f"{setting}: {exc}") from None
            raise ConfigError(f"{exc} (read relative to the credchain home)", key=setting) from None

    @property
    def login_name(self) -> str:
        """The name that logs in: the client id of the client-credentials grant, else the user."""
        name = self.client_id if self.grant == "client_credentials" else self.username
        return name or ""

    @property
    def account(self) -> str:
        """Who logs in, for messages: ``user 'CORP\\svc-scan'`` or ``client 'ci-scanner'``."""
        if self.grant == "client_credentials":
            return f"client {quoted(self.login_name)}"
        return f"user {quoted(self.login_name)}" + (
            f" in domain {quoted(self.domain)}" if self.domain else ""
        )

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
    def client_certificate(self) -> ClientCertificate | None:
        if self.client_cert is None:
            return None
        return ClientCertificate(
            cert=str(Path(self.client_cert).expanduser()),
            key=str(Path(self.client_key).expanduser()) if self.client_key else None,
            password=self.client_key_password,
        )

    @property
    def tls_policy(self) -> TLSPolicy:
        client = self.client_certificate
        if not self.verify_ssl:
            return TLSPolicy(fingerprint_sha256=self.fingerprint_sha256, client_certificate=client)
        return TLSPolicy(ca_bundle=self.ca_bundle, client_certificate=client)

    def anchored(self, home: Path) -> ThycoticSettings:
        """These settings with a relative ``ca_bundle``, ``client_cert`` or ``client_key`` read
        from ``home`` (never the working directory) and checked: ``ConfigError`` naming the
        setting if it is unusable."""
        update: dict[str, str] = {}
        if self.ca_bundle is not None and not Path(self.ca_bundle).expanduser().is_absolute():
            path = home / self.ca_bundle
            try:
                check_ca_bundle(str(path))
            except ValueError as exc:
                raise ConfigError(
                    f"{exc} (read relative to the credchain home)", key="ca_bundle"
                ) from None
            update["ca_bundle"] = str(path)
        if self.client_cert is not None and not self._client_paths_absolute():
            for name in ("client_cert", "client_key"):
                value = getattr(self, name)
                if value is not None and not Path(value).expanduser().is_absolute():
                    update[name] = str(home / value)
            cert = update.get("client_cert", self.client_cert)
            key = update.get("client_key", self.client_key)
            self._check_client(cert, key, home=True)
        return self.model_copy(update=update) if update else self

    def resolved_mapping(self, home: Path) -> Mapping:
        """The mapping table, the mapping file (relative to the home), or the defaults."""
        if self.mapping is not None:
            return self.mapping
        if self.mapping_file is not None:
            try:
                path = Path(self.mapping_file).expanduser()
            except RuntimeError:  # "~user/..." of a user this host does not know
                raise ConfigError(
                    f"cannot expand {self.mapping_file!r}: no such user", key="mapping_file"
                ) from None
            return read_mapping_file(path if path.is_absolute() else home / path)
        return Mapping()
