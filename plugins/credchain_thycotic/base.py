"""What every provider that reads one Secret Server shares: the client, its TLS and its token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import SecretStr

from credchain.cache import TokenCache
from credchain.provider import (
    AssetQuery,
    FieldMissing,
    LoginRefused,
    Provider,
    ProviderContext,
    ProviderSettings,
    SafeCredential,
    TLSPolicy,
    Where,
    hookimpl,
)
from credchain.tokens import AccessToken
from credchain_thycotic.advice import login_advice
from credchain_thycotic.client import SecretServerClient, SecretValues
from credchain_thycotic.settings import ThycoticSettings, quoted

__all__ = ["SecretServerProvider", "secret_credential"]

S = TypeVar("S", bound=ProviderSettings)


class SecretServerProvider(Provider[S]):
    """A provider talking to the Secret Server of ``connection`` (its own or another entry's).

    Implements ``Checks``, ``Locates``, ``Advises`` and ``CountsRequests`` (``credchain.provider``).
    """

    def __init__(self, settings: S, context: ProviderContext, connection: ThycoticSettings) -> None:
        super().__init__(settings, context)
        # A relative ca_bundle is in the home, known here: never the working directory.
        connection = connection.anchored(context.home)
        self.connection = connection
        cache = TokenCache(context.home, clock=context.clock) if connection.token_cache else None
        # A cache other processes share holds the token instead of the file (docs/cluster.md);
        # token_cache = false keeps it in this process either way.
        shared = context.cache if connection.token_cache and context.cache is not None else None
        shared = shared if shared is not None and shared.shared else None
        self.client = SecretServerClient(
            connection, entry=context.entry, clock=context.clock, token_cache=cache, shared=shared
        )

    def close(self) -> None:
        self.client.close()

    def vault_requests(self) -> Mapping[str, int]:
        """HTTP attempts sent for this entry, by kind (``credchain resolve --inventory``)."""
        return self.client.vault_requests()

    def check(self) -> str:
        """Log in afresh (whatever the token cache holds): what ``credchain test`` checks."""
        self.credchain_authenticate(renew=True)
        c = self.connection
        return f"logged in to {c.base_url} as {quoted(c.login_name)} ({c.tls_policy.describe()})"

    def where(self, query: AssetQuery | None) -> Where:
        return Where(url=self.connection.url, port=self.connection.port)

    def advice(self, error: BaseException, query: AssetQuery | None) -> list[str] | None:
        """``Advises``: a refused login's advice fits the connection's grant."""
        return login_advice(self.connection) if isinstance(error, LoginRefused) else None

    @hookimpl
    def credchain_verify_tls(self) -> TLSPolicy:
        return self.connection.tls_policy

    @hookimpl
    def credchain_authenticate(self, renew: bool = False) -> AccessToken:
        return self.client.token(renew=renew)


def secret_credential(
    values: SecretValues, *, fields: tuple[str, str], detail: str
) -> SafeCredential:
    """The credential in ``values``; an empty username or password field (``fields``: their
    names) is a ``FieldMissing`` naming it."""
    secret = f"secret {values.id} {values.name!r}"
    for value, name in zip((values.username, values.password), fields, strict=True):
        if not value:
            raise FieldMissing(f"{secret} has no value in its {name!r} field")
    assert values.username and values.password
    privilege = values.privilege_password
    return SafeCredential(
        username=values.username,
        password=SecretStr(values.password),
        privilege_password=SecretStr(privilege) if privilege else None,
        detail=detail,
        reference=str(values.id),
    )
