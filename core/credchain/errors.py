"""Every error credchain raises, in one hierarchy.

```
CredchainError
├── ConfigError                 the config file or a setting is wrong (names the file and key)
│   └── ChainDisabled           credchain is configured but disabled (``credchain enable``)
├── PluginLoadError             a provider named in the chain is missing or fails to import
├── SecretStoreError            an ``enc:`` value cannot be decrypted (key missing, tampered)
├── CredentialFormatError       a SAFE credential dict is malformed (names the key)
├── QueryError                  the scanner's query is malformed (names the key)
├── CredentialNotFound          every step of the chain answered "not here" (carries the trace)
├── ProviderUnavailable         the vault cannot be reached or answered nonsense: try later
│   ├── UnexpectedAnswer        it answered, but not as the API (an HTML page, malformed JSON)
│   └── TimedOut                the whole call outlasted the caller's bound (resolve --timeout)
└── ProviderError               the provider cannot do it as configured: fix something
    ├── LoginRefused            the vault refused the configured login
    ├── AccessDenied            the account may not read that secret
    ├── FieldMissing            the secret has no such field, or the field is empty
    ├── WrongEndpoint           the URL answers, but that path is not the vault's API (HTTP 404)
    ├── TLSVerificationError    the vault's certificate is not the one we trust
    │   └── ClientCertificateRefused  the vault refused our client certificate (or its lack)
    ├── TokenExpired            the vault refused even a freshly granted token
    └── ScriptError             a custom script is invalid or misbehaved
```

Callers tell cases apart by type, never by message text: ``credchain.cli.guidance`` maps each
type to the admin's advice, and a scanner may retry ``ProviderUnavailable`` later.

Messages never contain a secret value. Errors raised while walking a chain carry the
``trace`` of the walk so far (see ``credchain.resolver``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from credchain.trace import Trace

__all__ = [
    "AccessDenied",
    "ChainDisabled",
    "ClientCertificateRefused",
    "ConfigError",
    "CredchainError",
    "CredentialFormatError",
    "CredentialNotFound",
    "FieldMissing",
    "LoginRefused",
    "PluginLoadError",
    "ProviderError",
    "ProviderUnavailable",
    "QueryError",
    "ScriptError",
    "SecretStoreError",
    "TLSVerificationError",
    "TimedOut",
    "TokenExpired",
    "UnexpectedAnswer",
    "WrongEndpoint",
]


class CredchainError(Exception):
    """Base of every credchain error."""

    #: the chain walk that led here, when the error came out of ``Resolver.resolve``
    trace: Trace | None = None
    #: what only ``--debug`` shows (a custom script's own message and traceback, which may
    #: hold a secret): never part of the message, the repr or the trace
    debug_detail: str | None = None


class ConfigError(CredchainError):
    """The configuration is wrong; the message names the file and the key."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        where = ", ".join(
            part for part in (path, f"key {key!r}" if key is not None else None) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.key = key


class ChainDisabled(ConfigError):
    """credchain is configured but disabled; ``credchain enable`` turns it on."""


class PluginLoadError(CredchainError):
    """A provider could not be loaded."""

    def __init__(
        self,
        message: str,
        *,
        name: str,
        distribution: str | None = None,
        installed: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.name = name
        self.distribution = distribution
        self.installed = tuple(installed)


class SecretStoreError(CredchainError):
    """A stored secret cannot be decrypted: the key is missing or the value was tampered with."""


class CredentialFormatError(CredchainError, ValueError):
    """A SAFE credential dict is malformed; ``key`` names the offending key."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class QueryError(CredchainError, ValueError):
    """The scanner's query is malformed; ``key`` names the offending key."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class CredentialNotFound(CredchainError, LookupError):
    """Every step of the chain answered "not here"; ``trace`` says what was tried."""

    def __init__(self, message: str, *, trace: Trace | None = None) -> None:
        super().__init__(message)
        self.trace = trace


class ProviderUnavailable(CredchainError):
    """The vault is down, timed out or answered something that is not the API: try later."""


class UnexpectedAnswer(ProviderUnavailable):
    """The vault answered, but not as its API does: an HTML page or malformed JSON.

    Often a proxy's or a maintenance page (so: try later); always, when the URL is wrong.
    """


class TimedOut(ProviderUnavailable):
    """The whole call outlasted the bound its caller set (``credchain resolve --timeout``).

    The lookups' own deadlines (``VaultHttp.deadline``) bound each entry; this bounds them all.
    """


class ProviderError(CredchainError):
    """The provider cannot answer as configured (login refused, access denied, bad setting)."""


class LoginRefused(ProviderError):
    """The vault refused the configured login (username, password, domain, client credentials)."""


class AccessDenied(ProviderError):
    """The vault account may not read the secret (it needs View, and the secret shared)."""


class FieldMissing(ProviderError):
    """The secret has no field of the configured name, or that field is empty."""


class WrongEndpoint(ProviderError):
    """The URL answers, but the configured path is not the vault's API (HTTP 404)."""


class TLSVerificationError(ProviderError):
    """The vault's certificate failed verification or does not match the pinned fingerprint."""

    def __init__(
        self, message: str, *, expected: str | None = None, presented: str | None = None
    ) -> None:
        super().__init__(message)
        self.expected = expected
        self.presented = presented


class ClientCertificateRefused(TLSVerificationError):
    """Mutual TLS: the vault refused the client certificate presented, or the lack of one, at
    the handshake (``client_cert``, ``client_key``); its own certificate is not in question."""


class TokenExpired(ProviderError):
    """The vault refused a freshly granted token too: the client renews a refused token once,
    retries once, then raises this (the resolver does not retry it again)."""


class ScriptError(ProviderError):
    """A custom script is invalid, or it failed, hung or returned invalid output."""
