"""Small providers for tests: they answer from memory, never from a vault."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field, SecretStr

from credchain.errors import CredchainError
from credchain.hookspecs import hookimpl
from credchain.models import AssetQuery, SafeCredential
from credchain.provider import Provider, ProviderContext, ProviderSettings

__all__ = ["FailingProvider", "NotHereProvider", "StaticProvider", "StaticSettings"]


class StaticSettings(ProviderSettings):
    #: asset name (or IP address, or CMDB id) -> {"username", "password", "privilege_password"?}
    credentials: dict[str, dict[str, SecretStr | str]] = Field(default_factory=dict)


class StaticProvider(Provider[StaticSettings]):
    """Credentials from a table in memory, keyed by asset name, IP address or CMDB id."""

    Settings = StaticSettings

    @classmethod
    def of(
        cls, credentials: Mapping[str, Mapping[str, str]], entry: str = "static"
    ) -> StaticProvider:
        """A provider built in code: ``StaticProvider.of({"web-01": {"username": ..., ...}})``."""
        from pathlib import Path

        settings = StaticSettings.model_validate({"credentials": credentials})
        return cls(settings, ProviderContext(entry=entry, home=Path(".")))

    @hookimpl
    def credchain_lookup(self, query: AssetQuery) -> Mapping[str, SecretStr | str] | None:
        for key in (query.asset_name, query.ip_address, query.cmdb_id):
            if key is not None and key in self.settings.credentials:
                return self.settings.credentials[key]
        return None

    @hookimpl
    def credchain_extract_credentials(
        self, record: Mapping[str, SecretStr | str]
    ) -> SafeCredential:
        def text(key: str) -> str | None:
            value = record.get(key)
            return value.get_secret_value() if isinstance(value, SecretStr) else value

        privilege = text("privilege_password")
        return SafeCredential(
            username=text("username") or "",
            password=SecretStr(text("password") or ""),
            privilege_password=None if privilege is None else SecretStr(privilege),
            detail="static table",
        )


class NotHereProvider:
    """Never has the credential: every lookup answers ``None``."""

    Settings = ProviderSettings

    def __init__(self, settings: object = None, context: object = None) -> None:
        self.settings, self.context = settings, context

    @hookimpl
    def credchain_lookup(self) -> None:
        return None


class FailingProvider:
    """Raises the error it was given on every lookup."""

    def __init__(self, error: CredchainError) -> None:
        self.error = error
        self.calls = 0

    @hookimpl
    def credchain_lookup(self) -> None:
        self.calls += 1
        raise self.error
