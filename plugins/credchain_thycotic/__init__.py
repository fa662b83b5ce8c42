"""Thycotic / Delinea Secret Server (REST API v1): the asset's secret found by a mapped field.

Per asset: one search (``GET secrets`` with ``filter.extendedFields`` for the mapped fields), so
the credential usually comes back in that one request; a second request (``GET secrets/{id}``)
only when the search did not return a field's value (check-out secrets, servers that do not
return extended fields); ``POST secrets/{id}/restricted`` with the configured ``comment`` for a
secret that requires one. One token per process, shared by every asset and thread, and kept
encrypted in the home's token cache between runs (``token_cache = false`` turns that off).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from credchain.errors import ProviderError
from credchain.hookspecs import hookimpl
from credchain.models import AssetQuery, SafeCredential
from credchain.provider import ProviderContext
from credchain.resolver import note
from credchain_thycotic.base import SecretServerProvider, secret_credential
from credchain_thycotic.client import SecretRecord, SecretServerClient, SecretSummary
from credchain_thycotic.mapping import Mapping
from credchain_thycotic.settings import SECRET_NAME, ThycoticSettings

__all__ = ["SecretMatch", "SecretServerClient", "ThycoticProvider", "ThycoticSettings"]

#: how many search results to ask for: enough to see that a match is not unique
_TAKE = 10


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """The secret found for an asset and its credential fields; ``repr`` hides the values."""

    id: int
    name: str
    username: str | None = field(repr=False)
    password: str | None = field(repr=False)
    privilege_password: str | None = field(repr=False)


class ThycoticProvider(SecretServerProvider[ThycoticSettings]):
    """Thycotic / Delinea Secret Server, REST API v1 (SAFE's default integration)."""

    Settings = ThycoticSettings

    def __init__(self, settings: ThycoticSettings, context: ProviderContext) -> None:
        super().__init__(settings, context, settings)
        self.mapping: Mapping = settings.resolved_mapping(context.home)

    @hookimpl
    def credchain_lookup(self, query: AssetQuery) -> SecretMatch | None:
        mapping = self.mapping
        text = getattr(query, mapping.safe_field)
        if text is None:
            note(f"the query has no {mapping.safe_field}")
            return None
        by_name = mapping.thycotic_field == SECRET_NAME
        found = self.client.search(
            text,
            search_field=None if by_name else mapping.thycotic_field,
            exact=self.settings.exact_match,
            extended_fields=mapping.fields,
            take=_TAKE,
        )
        searched = f"{mapping.thycotic_field} = {text!r}"
        if not found:
            note(f"no secret with {searched}")
            return None
        chosen = self._choose(found, searched)
        return self._read(chosen)

    def _choose(self, found: list[SecretSummary], searched: str) -> SecretSummary:
        if len(found) == 1:
            return found[0]
        listed = ", ".join(f"{s.id} {s.name!r}" for s in found[:5])
        if self.settings.multiple_matches == "error":
            raise ProviderError(
                f"{len(found)}{'+' if len(found) >= _TAKE else ''} secrets match {searched} "
                f'({listed}): make the mapping unique, or set multiple_matches = "first"'
            )
        chosen = min(found, key=lambda s: s.id)
        note(f"{len(found)} secrets match {searched}; took the oldest, {chosen.id}")
        return chosen

    def _read(self, summary: SecretSummary) -> SecretMatch:
        mapping = self.mapping
        extended = {name.casefold(): value for name, value in summary.extended.items()}
        password = extended.get(mapping.password_field.casefold())
        username = extended.get(mapping.username_field.casefold())
        optional = mapping.privilege_password_field
        privilege = extended.get(optional.casefold()) if optional else None
        # The privilege password is optional: a template without that field simply has none,
        # and the search leaves out fields the template does not have.
        withheld = optional is not None and optional.casefold() in extended and privilege is None
        if summary.requires_comment or password is None or username is None or withheld:
            record = self._get(summary)
            password = _field(record, mapping.password_field)
            username = _field(record, mapping.username_field)
            privilege = _optional_field(record, optional)
        return SecretMatch(summary.id, summary.name, username, password, privilege)

    def _get(self, summary: SecretSummary) -> SecretRecord:
        comment = self.settings.comment
        if summary.requires_comment and not comment:
            raise ProviderError(
                f"secret {summary.id} {summary.name!r} requires a comment when viewed: set "
                f'providers.{self.context.entry}.comment (for example "credchain scan")'
            )
        return self.client.get_secret(
            summary.id, comment=comment if summary.requires_comment else None
        )

    @hookimpl
    def credchain_extract_credentials(self, record: SecretMatch) -> SafeCredential:
        secret = f"secret {record.id} {record.name!r}"
        return secret_credential(
            secret,
            username=record.username,
            password=record.password,
            privilege_password=record.privilege_password,
            fields=(self.mapping.username_field, self.mapping.password_field),
            detail=secret,
        )


def _optional_field(record: SecretRecord, name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return record.value(name)
    except KeyError:
        return None


def _field(record: SecretRecord, name: str) -> str | None:
    try:
        return record.value(name)
    except KeyError:
        raise ProviderError(
            f"secret {record.id} {record.name!r} (template {record.template!r}) has no field "
            f"{name!r}; its fields are {', '.join(record.field_names())}. Field names are "
            "case-sensitive: check the mapping (thycotic_mapping.json)"
        ) from None
