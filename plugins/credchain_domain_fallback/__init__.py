"""ECM-style domain fallback (seed 002): a machine's own account, else a domain account, else local.

For an asset the provider derives its machine keys and its domain (``keys``), then takes the
first secret of (``rules``):

(a) ``machine``: a secret whose ``machine_field`` equals a machine key (asset name, host name,
    short name, IP address, in that order);
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

from dataclasses import dataclass, field

from pydantic import ValidationError

from credchain.errors import ConfigError, ProviderError
from credchain.hookspecs import hookimpl
from credchain.models import AssetQuery, SafeCredential
from credchain.provider import Candidate, ProviderContext
from credchain.resolver import note
from credchain_domain_fallback.rules import Finder, Match, field_value
from credchain_domain_fallback.settings import DomainFallbackSettings
from credchain_thycotic.base import SecretServerProvider, secret_credential
from credchain_thycotic.settings import ThycoticSettings

__all__ = ["DomainFallbackProvider", "DomainFallbackSettings", "DomainMatch", "connection_settings"]


@dataclass(frozen=True, slots=True)
class DomainMatch:
    """The secret chosen for an asset, with its credential; ``repr`` hides the values."""

    rule: str
    key: str
    id: int
    name: str
    username: str
    password: str | None = field(repr=False)
    privilege_password: str | None = field(repr=False)

    @property
    def detail(self) -> str:
        return f"rule {self.rule} ({self.key}): secret {self.id} '{self.name}'"


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
        error = exc.errors()[0]
        loc = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(
            f"the connection [providers.{name}] is invalid: {loc}: {message}", path=where, key=key
        ) from None


class DomainFallbackProvider(SecretServerProvider[DomainFallbackSettings]):
    """Machine, then domain, then local account from Secret Server (seed 002's ECM plugin)."""

    Settings = DomainFallbackSettings

    def __init__(self, settings: DomainFallbackSettings, context: ProviderContext) -> None:
        self.connection = connection_settings(settings, context)
        super().__init__(settings, context, self.connection)
        self.finder = Finder(settings, self.client)

    # -- hooks (verify_tls and authenticate come from SecretServerProvider) --------------------

    @hookimpl
    def credchain_lookup(self, query: AssetQuery) -> DomainMatch | None:
        found = self.finder.find(query, with_passwords=True, first_only=True)
        if not found:
            return None
        match = found[0]
        note(f"took secret {match.summary.id} by rule {match.rule}")
        return self._read(match)

    @hookimpl
    def credchain_extract_credentials(self, record: DomainMatch) -> SafeCredential:
        return secret_credential(
            f"secret {record.id} {record.name!r}",
            username=record.username,
            password=record.password,
            privilege_password=record.privilege_password,
            fields=(self.settings.username_field, self.settings.password_field),
            detail=record.detail,
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
        summary = match.summary
        names = self.settings.credential_fields
        values = [field_value(summary, name) for name in names]
        texts: list[str | None] = [value if present else None for present, value in values]
        # Restricted secrets keep their passwords out of search results: read them properly.
        # A missing privilege field is no reason: most templates have none.
        if summary.requires_comment or not (values[0][0] and values[1][0]) or not texts[1]:
            texts = self._get(match, names)
        username = texts[0]
        if not username:
            raise ProviderError(
                f"secret {summary.id} {summary.name!r} has no value in its "
                f"{self.settings.username_field!r} field"
            )
        privilege = texts[2] if len(texts) == 3 else None
        return DomainMatch(
            match.rule,
            match.key,
            summary.id,
            summary.name,
            self._login_name(match, username),
            texts[1],
            privilege,
        )

    def _get(self, match: Match, names: list[str]) -> list[str | None]:
        summary = match.summary
        comment = self.connection.comment
        if summary.requires_comment and not comment:
            raise ProviderError(
                f"secret {summary.id} {summary.name!r} requires a comment when viewed: set "
                f"providers.{self.settings.connection}.comment"
            )
        record = self.client.get_secret(
            summary.id, comment=comment if summary.requires_comment else None
        )
        values: list[str | None] = []
        for index, name in enumerate(names):
            try:
                values.append(record.value(name))
            except KeyError:
                if index == 2:  # the optional privilege password
                    values.append(None)
                    continue
                raise ProviderError(
                    f"secret {summary.id} {summary.name!r} (template {record.template!r}) has "
                    f"no field {name!r}; its fields are {', '.join(record.field_names())}"
                ) from None
        return values

    def _login_name(self, match: Match, username: str) -> str:
        """``DOMAIN\\user`` for a domain account (``qualify_username``), else as stored."""
        if match.rule != "domain" or not self.settings.qualify_username:
            return username
        if "\\" in username or "@" in username:
            return username
        return f"{match.key.split(chr(92), 1)[0]}\\{username}"
