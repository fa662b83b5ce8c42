"""Thycotic / Delinea Secret Server (REST API v1): the asset's secret found by a mapped field.

Per asset: one search (``GET secrets`` with ``filter.extendedFields`` for the mapped fields), so
the credential usually comes back in that one request; a second request (``GET secrets/{id}``)
only when the search did not return a field's value (check-out secrets, servers that do not
return extended fields); ``POST secrets/{id}/restricted`` with the configured ``comment`` for a
secret that requires one. One token per process, shared by every asset and thread, and kept
encrypted in the home's token cache between runs (``token_cache = false`` turns that off).

With ``prefetch = true`` a whole scan lists the secrets once instead of searching per asset
(``credchain_thycotic.prefetch``); answers are the same.
"""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from pathlib import Path
from typing import Any

from credchain.provider import (
    AssetQuery,
    FieldMissing,
    Prefetched,
    ProviderContext,
    ProviderError,
    SafeCredential,
    Where,
    hookimpl,
    note,
)
from credchain.tokens import AccessToken
from credchain_thycotic.advice import thycotic_advice
from credchain_thycotic.base import SecretServerProvider, secret_credential
from credchain_thycotic.client import SecretServerClient, SecretSummary, SecretValues, field_key
from credchain_thycotic.mapping import Mapping
from credchain_thycotic.prefetch import Inventory, Prefetch, list_inventory
from credchain_thycotic.settings import SECRET_NAME, ThycoticSettings

__all__ = ["SecretServerClient", "ThycoticProvider", "ThycoticSettings"]

#: how many search results to ask for: enough to see that a match is not unique
_TAKE = 10


def _is_secret_name(field: str) -> bool:
    """Whether the search field is the secret's name, spelled by the one field rule."""
    return field_key(field) == field_key(SECRET_NAME)


class ThycoticProvider(SecretServerProvider[ThycoticSettings]):
    """Thycotic / Delinea Secret Server, REST API v1 (SAFE's default integration).

    Also implements ``Prefetches`` (``credchain.provider``): with ``prefetch = true``.
    """

    Settings = ThycoticSettings

    def __init__(self, settings: ThycoticSettings, context: ProviderContext) -> None:
        mapping = settings.resolved_mapping(context.home)  # before a session is opened
        super().__init__(settings, context, settings)
        self.mapping: Mapping = mapping
        self._prefetch = Prefetch(context.entry, settings, self._list, context.clock)

    def prefetch(self) -> Prefetched | None:
        """List the secrets for a run, if the entry says ``prefetch = true``."""
        return self._prefetch.hold() if self.settings.prefetch else None

    def _list(self, now: float) -> Inventory:
        mapping = self.mapping
        return list_inventory(
            self.client,
            self.settings,
            search_field=mapping.thycotic_field,
            extended_fields=mapping.credential_fields.names,
            listed_at=now,
        )

    def close(self) -> None:
        self._prefetch.drop()
        super().close()

    @classmethod
    def describe(cls, table: AnyMapping[str, Any], home: Path) -> str:
        """The URL (and port) an entry's raw table points at, for ``credchain status``."""
        url, port = table.get("url"), table.get("port")
        if not isinstance(url, str):
            return ""
        return url + (f" (port {port})" if port else "")

    def where(self, query: AssetQuery | None) -> Where:
        mapping, settings = self.mapping, self.settings
        value = getattr(query, mapping.safe_field) if query is not None else None
        mapping_file = settings.mapping_file
        return Where(
            url=settings.url,
            port=settings.port,
            mapping_file=self.context.home / mapping_file if mapping_file else None,
            search=f"{mapping.thycotic_field} = {value!r}" if value else None,
        )

    def advice(self, error: BaseException, query: AssetQuery | None) -> list[str] | None:
        """``Advises``: seed 000's FAQ for this entry's login, mapping file and search."""
        where = self.where(query)
        return thycotic_advice(
            error, self.settings, search=where.search, mapping_file=where.mapping_file
        )

    def check_fields(self, query: AssetQuery) -> str:
        """``ChecksFields``: every mapped field, the privilege one included, is a field of the
        secret found for ``query`` (``FieldMissing`` naming the first that is not). One search
        and one ``GET secrets/{id}``; the values read are dropped."""
        fields = self.mapping.credential_fields
        with self.client.deadline():
            found = self.search(query)
            if not found:
                return f"no secret for {self._searched(query)} to check the mapped fields with"
            summary = self._choose(found, self._searched(query))
            comment = self.settings.comment if summary.requires_comment else None
            record = self.client.get_secret(summary.id, comment=comment)
        for name in (fields.username, fields.password, fields.privilege_password):
            if name is None:
                continue
            try:
                record.slug(name)
            except KeyError:
                raise FieldMissing(
                    f"secret {record.id} '{record.name}' (template '{record.template}') has no "
                    f"field {name!r}; its fields are {', '.join(record.field_names())}"
                ) from None
        return (
            f"secret {record.id} '{record.name}' (template '{record.template}') has every "
            f"mapped field: {', '.join(fields.names)}"
        )

    def search(
        self, query: AssetQuery, *, token: AccessToken | None = None, take: int = _TAKE
    ) -> list[SecretSummary]:
        """The secrets whose mapped field holds the asset's mapped value, with their fields."""
        mapping = self.mapping
        text = getattr(query, mapping.safe_field)
        if text is None:
            note(f"the query has no {mapping.safe_field}")
            return []
        inventory = self._prefetch.inventory()
        if inventory is not None:
            found = inventory.find(text, take)
        else:
            by_name = _is_secret_name(mapping.thycotic_field)
            found = self.client.search(
                text,
                search_field=None if by_name else mapping.thycotic_field,
                exact=self.settings.exact_match,
                extended_fields=mapping.credential_fields.names,
                take=take,
                token=token,
            )
        if not found:
            note(f"no secret with {self._searched(query)}")
        return found

    def read(self, summary: SecretSummary) -> SecretValues:
        """The credential's values of a secret the search found (one way: ``read_credential``)."""
        return self.client.read_credential(
            summary,
            self.mapping.credential_fields,
            comment=self.settings.comment,
            comment_setting=f"providers.{self.context.entry}.comment",
        )

    def _searched(self, query: AssetQuery) -> str:
        return f"{self.mapping.thycotic_field} = {getattr(query, self.mapping.safe_field)!r}"

    @hookimpl
    def credchain_lookup(
        self, query: AssetQuery, auth: AccessToken | None = None
    ) -> SecretValues | None:
        self._prefetch.inventory()  # a listing past its TTL is read again outside the deadline
        with self.client.deadline():
            found = self.search(query, token=auth)
            if not found:
                return None
            return self.read(self._choose(found, self._searched(query)))

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

    @hookimpl
    def credchain_extract_credentials(self, record: SecretValues) -> SafeCredential:
        fields = self.mapping.credential_fields
        return secret_credential(
            record,
            fields=(fields.username, fields.password),
            detail=f"secret {record.id} {record.name!r}",
        )
