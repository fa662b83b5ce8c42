"""Errors on the wire: RFC 9457 problem details, the same one-line messages as the CLI.

Each problem's ``type`` is ``urn:credchain:problem:SLUG``; clients (``credchain.agent.Client``,
``credchain resolve --agent``) turn a slug back into the error class it came from.

| slug              | status | from                                  |
|-------------------|--------|---------------------------------------|
| not-found         | 404    | ``CredentialNotFound``                 |
| bad-query         | 400    | ``QueryError``, a body that is no JSON |
| disabled          | 503    | ``ChainDisabled``                      |
| vault-unavailable | 503    | ``ProviderUnavailable``                |
| vault-error       | 502    | ``ProviderError`` and other errors     |
| forbidden         | 403    | a caller the ``[agent]`` policy refuses |
| unauthorized      | 401    | a TCP caller without the bearer token  |
| bad-config        | 422    | a reload whose new config is refused   |
"""

from __future__ import annotations

from credchain.errors import (
    ChainDisabled,
    ConfigError,
    CredchainError,
    CredentialNotFound,
    ProviderError,
    ProviderUnavailable,
    QueryError,
)

__all__ = ["PREFIX", "Problem", "error_class", "problem", "problem_of"]

PREFIX = "urn:credchain:problem:"

Problem = dict[str, object]

_BY_CLASS: tuple[tuple[type[CredchainError], str, int, str], ...] = (
    (CredentialNotFound, "not-found", 404, "Not found"),
    (QueryError, "bad-query", 400, "Bad query"),
    (ChainDisabled, "disabled", 503, "credchain is disabled"),
    (ProviderUnavailable, "vault-unavailable", 503, "Vault unavailable"),
    (ConfigError, "bad-config", 422, "Configuration refused"),
    (ProviderError, "vault-error", 502, "Vault error"),
)


def problem(slug: str, status: int, title: str, detail: str) -> Problem:
    """A problem object; ``detail`` is made one printable line."""
    from credchain.cli.output import terminal_safe  # not at import: clients need no rich

    return {
        "type": PREFIX + slug,
        "title": title,
        "status": status,
        "detail": terminal_safe(detail),
    }


def problem_of(error: CredchainError) -> Problem:
    """The problem for a credchain error (``vault-error`` when no row names its class)."""
    for cls, slug, status, title in _BY_CLASS:
        if isinstance(error, cls):
            return problem(slug, status, title, str(error))
    return problem("vault-error", 502, "Vault error", str(error))


def error_class(slug: str) -> type[CredchainError]:
    """The error class a client raises for a problem's slug."""
    for cls, known, _, _ in _BY_CLASS:
        if known == slug:
            return cls
    return ProviderError if slug == "vault-error" else CredchainError
