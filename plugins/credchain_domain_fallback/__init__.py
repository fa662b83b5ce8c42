"""ECM-style domain fallback (seed 002): a machine's own account, else a domain account, else local.

For an asset the provider derives its machine keys and its domain (``keys``), then takes the
first secret of (``rules``):

(a) ``machine``: a secret whose ``machine_field`` equals a machine key (asset name, host name,
    short name, IP address, in that order); a short name takes only a secret whose
    ``domain_field`` is the short name's own domain (``dc-09`` of ``dc-09.evil.example.net``
    never gets CORP's ``DC-09``);
(b) ``domain``: else a secret with no machine whose ``domain_field`` is the asset's domain (the
    query's hint, the FQDN's suffix, else ``default_domain``), if that domain is in ``domains``;
(c) ``local``: else, with ``fallback_to_local``, the ``username`` account with an empty domain.

``username`` narrows every rule to that account. Ties go to the oldest secret (lowest id).
Requests per asset: one search per machine key tried (stops at the first key that matches), then
one search for (b) and (c) together; one more (``GET secrets/{id}``) only for a secret whose
password the search does not return (comment-required or check-out secrets). The vault login is
the ``connection`` entry's (a Thycotic chain entry), its token cached in the home.

``candidates(query)`` lists what would be tried, in order, without reading any password.
"""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from credchain.errors import CredentialNotFound
from credchain.provider import (
    AssetQuery,
    Candidate,
    ConfigError,
    ProviderContext,
    SafeCredential,
    hookimpl,
    note,
    settings_error,
)
from credchain.tokens import AccessToken
from credchain_domain_fallback.rules import Finder, Match, field_value
from credchain_domain_fallback.settings import DomainFallbackSettings
from credchain_thycotic.base import SecretServerProvider, secret_credential
from credchain_thycotic.client import SecretValues
from credchain_thycotic.settings import ThycoticSettings

__all__ = ["DomainFallbackProvider", "DomainFallbackSettings", "DomainMatch", "connection_settings"]


class DomainMatch:
    """The secret chosen for an asset, by which rule and key, with its values (hidden)."""

    __slots__ = ("key", "rule", "values")

    def __init__(self, rule: str, key: str, values: SecretValues) -> None:
        self.rule, self.key, self.values = rule, key, values

    @property
    def detail(self) -> str:
        return f"rule {self.rule} ({self.key}): secret {self.values.id} '{self.values.name}'"

    def __repr__(self) -> str:
        return f"DomainMatch({self.detail})"


def connection_settings(
    settings: DomainFallbackSettings, context: ProviderContext
) -> ThycoticSettings:
    """The ``connection`` entry's Thycotic settings; ``ConfigError`` naming the key if unusable."""
    config = context.config
    key = f"providers.{context.entry}.connection"
    where = str(config.path) if config is not None and config.path is not None else None
    name = settings.connection
    if config is None or name not in config.providers:
        raise ConfigError(f"no [providers.{name}] table to connect with", path=where, key=key)
    entry = config.entry(name)
    if entry.type != "thycotic":
        raise ConfigError(
            f"[providers.{name}] is of type {entry.type!r}; the connection must be a "
            "thycotic entry",
            path=where,
            key=key,
        )
    try:
        return ThycoticSettings.model_validate(dict(entry.settings))
    except ValidationError as exc:
        problem = settings_error(exc, key=f"providers.{name}")
        raise ConfigError(
            f"the connection [providers.{name}] is invalid: {problem}", path=where, key=key
        ) from None


class DomainFallbackProvider(SecretServerProvider[DomainFallbackSettings]):
    """Machine, then domain, then local account from Secret Server (seed 002's ECM plugin)."""

    Settings = DomainFallbackSettings

    def __init__(self, settings: DomainFallbackSettings, context: ProviderContext) -> None:
        super().__init__(settings, context, connection_settings(settings, context))
        self.finder = Finder(settings, self.client)

    @classmethod
    def describe(cls, table: AnyMapping[str, Any], home: Path) -> str:
        """The connection and domains of an entry's raw table, for ``credchain status``."""
        domains = table.get("domains")
        shown = (
            ", ".join(map(str, domains)) if isinstance(domains, list) else str(domains or "none")
        )
        return f"via [providers.{table.get('connection', '?')}], domains {shown}"

    @classmethod
    def answers_every_asset(cls, table: AnyMapping[str, Any]) -> str | None:
        """``AnswersEveryAsset``: with ``default_domain`` every asset has a domain, and with
        ``fallback_to_local`` every asset has the local account: entries after this one are
        asked only when it fails (or when the vault holds no such secret)."""
        reasons = [
            key
            for key in ("default_domain", "fallback_to_local")
            if table.get(key) not in (None, False, "")
        ]
        return " and ".join(reasons) if reasons else None

    def advice(self, error: BaseException, query: AssetQuery | None) -> list[str] | None:
        """``Advises``: the login's advice, or what to run when no rule found a secret."""
        if isinstance(error, CredentialNotFound):
            return [
                "No secret qualified by the machine, domain or local rule (docs/domain-fallback"
                ".md). See what would be tried, rule by rule, with: credchain test "
                f"{self.context.entry} --asset-name NAME",
            ]
        return super().advice(error, query)

    # -- hooks (verify_tls and authenticate come from SecretServerProvider) --------------------

    @hookimpl
    def credchain_lookup(
        self, query: AssetQuery, auth: AccessToken | None = None
    ) -> DomainMatch | None:
        with self.client.deadline():
            found = self.finder.find(query, with_passwords=True, first_only=True, token=auth)
            if not found:
                return None
            match = found[0]
            note(f"took secret {match.summary.id} by rule {match.rule}")
            return self._read(match)

    @hookimpl
    def credchain_extract_credentials(self, record: DomainMatch) -> SafeCredential:
        s = self.settings
        return secret_credential(
            record.values, fields=(s.username_field, s.password_field), detail=record.detail
        )

    # -- test settings ---------------------------------------------------------------------------

    def candidates(self, query: AssetQuery) -> list[Candidate]:
        """Every secret that qualifies for ``query``, in the order tried; never a password.

        The first is the one ``resolve`` returns. Costs one search per machine key and one for
        the domain and local rules.
        """
        matches = self.finder.find(query, with_passwords=False, first_only=False)
        seen: set[int] = set()
        listed = []
        for match in matches:
            if match.summary.id in seen:
                continue
            seen.add(match.summary.id)
            _, username = field_value(match.summary, self.settings.username_field)
            listed.append(
                Candidate(
                    rule=f"{match.rule} ({match.key})",
                    secret_id=match.summary.id,
                    secret_name=match.summary.name,
                    username=self._login_name(match, username) if username else "?",
                )
            )
        return listed

    # -- reading -----------------------------------------------------------------------------------

    def _read(self, match: Match) -> DomainMatch:
        values = self.client.read_credential(
            match.summary,
            self.settings.credential_fields,
            comment=self.connection.comment,
            comment_setting=f"providers.{self.settings.connection}.comment",
        )
        if values.username:
            values = replace(values, username=self._login_name(match, values.username))
        return DomainMatch(match.rule, match.key, values)

    def _login_name(self, match: Match, username: str) -> str:
        """``DOMAIN\\user`` for a domain account (``qualify_username``), else as stored."""
        if match.rule != "domain" or not self.settings.qualify_username:
            return username
        if "\\" in username or "@" in username:
            return username
        return f"{match.key.split(chr(92), 1)[0]}\\{username}"
