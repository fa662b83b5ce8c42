"""What every provider that reads one Secret Server shares: the client, its TLS and its token."""

from __future__ import annotations

from typing import TypeVar

from pydantic import SecretStr

from credchain.cache import TokenCache
from credchain.errors import ProviderError
from credchain.hookspecs import hookimpl
from credchain.models import SafeCredential
from credchain.provider import Provider, ProviderContext, ProviderSettings
from credchain.tls import TLSPolicy
from credchain.tokens import AccessToken
from credchain_thycotic.client import SecretServerClient
from credchain_thycotic.settings import ThycoticSettings

__all__ = ["SecretServerProvider", "secret_credential"]

S = TypeVar("S", bound=ProviderSettings)


class SecretServerProvider(Provider[S]):
    """A provider talking to the Secret Server of ``connection`` (its own or another entry's)."""

    def __init__(self, settings: S, context: ProviderContext, connection: ThycoticSettings) -> None:
        super().__init__(settings, context)
        cache = TokenCache(context.home, clock=context.clock) if connection.token_cache else None
        self.client = SecretServerClient(connection, clock=context.clock, token_cache=cache)

    def close(self) -> None:
        self.client.close()

    def vault_requests(self) -> int:
        """Requests sent to the vault so far (``credchain resolve --inventory`` sums them)."""
        return self.client.vault_requests()

    @hookimpl
    def credchain_verify_tls(self) -> TLSPolicy:
        return self.client.settings.tls_policy

    @hookimpl
    def credchain_authenticate(self) -> AccessToken:
        return self.client.token()


def secret_credential(
    secret: str,
    *,
    username: str | None,
    password: str | None,
    privilege_password: str | None,
    fields: tuple[str, str],
    detail: str,
) -> SafeCredential:
    """The credential read from ``secret`` (``"secret 12 'name'"``); an empty username or
    password field (``fields``: their names) is a ``ProviderError`` naming it."""
    for value, name in zip((username, password), fields, strict=True):
        if not value:
            raise ProviderError(f"{secret} has no value in its {name!r} field")
    assert username and password
    return SafeCredential(
        username=username,
        password=SecretStr(password),
        privilege_password=SecretStr(privilege_password) if privilege_password else None,
        detail=detail,
    )
