"""The three rules, as searches: which secrets qualify for an asset, in the order they are tried.

(a) ``machine``: per machine key, in key order, one search of ``machine_field`` (exact); the
    first key with a match wins. A short name takes only a secret whose ``domain_field`` names
    one of its domains (``short_name_allows``); a full name takes any. (b) ``domain``: a secret
    with no machine value whose ``domain_field`` names the asset's domain, which must be one of
    ``domains``. (c) ``local`` (with ``fallback_to_local``): a secret with no machine value and
    an empty ``domain_field``.
With ``username`` every rule keeps only secrets with that username, and (b) and (c) share one
search of ``username_field``; without it (b) searches ``domain_field`` once for each spelling of
the domain (``CORP``, ``corp.example.com``, a ``domain_map`` suffix). Several
secrets qualifying under one rule and key are taken oldest first (lowest secret id).

The searches ask only for the fields they need; passwords only when ``with_passwords``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from credchain.provider import AssetQuery, ProviderError, note
from credchain.tokens import AccessToken
from credchain_domain_fallback.keys import (
    AssetDomain,
    MachineKey,
    asset_domain,
    domain_spellings,
    normalize_domain,
    scoped_machine_keys,
)
from credchain_domain_fallback.settings import DomainFallbackSettings
from credchain_thycotic.client import SecretServerClient, SecretSummary

__all__ = ["Finder", "Match", "Rule", "field_value", "short_name_allows"]

Rule = Literal["machine", "domain", "local"]
#: search page size: far more than one asset's secrets; a full page is reported in the trace
TAKE = 50


@dataclass(frozen=True, slots=True)
class Match:
    """A secret that qualifies for the asset under ``rule``; ``key`` says what matched."""

    rule: Rule
    key: str
    summary: SecretSummary


def field_value(summary: SecretSummary, name: str) -> tuple[bool, str]:
    """``(the template has the field, its value or "")`` from a search record's extended fields."""
    present, value = summary.field(name)
    return present, value or ""


def short_name_allows(key: MachineKey, secret_domain: str | None) -> bool:
    """Whether ``key`` may take a machine secret of ``secret_domain`` (None: it has none).

    A full name takes any; a short name one of its own domains', or, when it has none known,
    only a secret with no domain. ``secret_domain`` is normalised (``normalize_domain``).
    """
    if key.short_in is None:
        return True
    if secret_domain is None:
        return not key.short_in
    return secret_domain in key.short_in


class Finder:
    """Runs the rules against one Secret Server for a settings table; thread-safe."""

    def __init__(self, settings: DomainFallbackSettings, client: SecretServerClient) -> None:
        self.settings = settings
        self.client = client
        self._folder_id: int | None = None
        self._folder_lock = threading.Lock()

    def find(
        self,
        query: AssetQuery,
        *,
        with_passwords: bool,
        first_only: bool,
        token: AccessToken | None = None,
    ) -> list[Match]:
        """The qualifying secrets in rule order; with ``first_only`` it stops at the first.

        ``token`` is the one the resolver's walk holds (else the client's shared one).
        """
        s = self.settings
        keys = scoped_machine_keys(
            hint=query.domain,
            asset_name=query.asset_name,
            ip_address=query.ip_address,
            domain_map=s.domain_map,
        )
        domain = asset_domain(
            hint=query.domain,
            asset_name=query.asset_name,
            ip_address=query.ip_address,
            default_domain=s.default_domain,
            domain_map=s.domain_map,
        )
        names = [key.text for key in keys]
        note(f"machine keys: {', '.join(names) or 'none'}")
        note(f"asset domain: {domain.name or 'unknown'} (from {domain.source})")
        fields = [s.machine_field, s.domain_field, s.username_field]
        if with_passwords:
            fields += [name for name in s.credential_fields.names if name not in fields]
        matches: list[Match] = []
        for key in keys:
            found = self._search(key.text, s.machine_field, fields, token=token)
            hits = [m for m in found if self._machine_matches(m, key)]
            matches += [Match("machine", key.text, m) for m in _oldest_first(hits)]
            if hits and first_only:
                note(f"rule machine matched key {key.text}")
                return matches
        if keys and not matches:
            note(f"rule machine: no secret for {', '.join(names)}")
        domain_ok = self._domain_allowed(domain.name)
        domain_hits: list[SecretSummary] = []
        local_hits: list[SecretSummary] = []
        if s.username and (domain_ok or s.fallback_to_local):
            accounts = [
                m
                for m in self._search(s.username, s.username_field, fields, token=token)
                if not field_value(m, s.machine_field)[1] and self._user_matches(m)
            ]
            if domain_ok:
                domain_hits = [m for m in accounts if self._in_domain(m, domain.name)]
            local_hits = [m for m in accounts if field_value(m, s.domain_field) == (True, "")]
        elif domain_ok and domain.name is not None:
            domain_hits = self._domain_accounts(domain, fields, token)
        label = f"{domain.name}\\{s.username}" if s.username else str(domain.name)
        matches += [Match("domain", label, m) for m in _oldest_first(domain_hits)]
        if domain_ok:
            note(f"rule domain: {'matched' if domain_hits else 'no secret for'} {label}")
        if s.fallback_to_local and (not domain_hits or not first_only):
            matches += [Match("local", str(s.username), m) for m in _oldest_first(local_hits)]
            note(f"rule local: {'matched' if local_hits else 'no secret for'} {s.username}")
        return matches[:1] if first_only else matches

    def _domain_accounts(
        self, domain: AssetDomain, fields: Sequence[str], token: AccessToken | None
    ) -> list[SecretSummary]:
        """Secrets with no machine whose domain field holds any spelling of the domain."""
        s = self.settings
        assert domain.name is not None
        written = [text for text in (domain.written, *s.domains) if text and "." in text]
        found: dict[int, SecretSummary] = {}
        for spelling in domain_spellings(domain.name, written, s.domain_map):
            for m in self._search(spelling, s.domain_field, fields, token=token):
                if not field_value(m, s.machine_field)[1] and self._in_domain(m, domain.name):
                    found.setdefault(m.id, m)
        return list(found.values())

    # -- predicates ------------------------------------------------------------------------------

    def _machine_matches(self, summary: SecretSummary, key: MachineKey) -> bool:
        present, value = field_value(summary, self.settings.machine_field)
        # Trust the server's exact search when it did not echo the field; else check it.
        machine_ok = not present or value.casefold() == key.text.casefold()
        if not (machine_ok and self._user_matches(summary)):
            return False
        _, written = field_value(summary, self.settings.domain_field)
        secret_domain = normalize_domain(written, self.settings.domain_map) or None
        if short_name_allows(key, secret_domain):
            return True
        where = ", ".join(sorted(key.short_in or ())) or "an unknown domain"
        has = f"is of domain {secret_domain}" if secret_domain else "has no domain"
        note(
            f"rule machine: refused secret {summary.id} for the short name {key.text}: "
            f"it {has}, the short name is a machine of {where}"
        )
        return False

    def _user_matches(self, summary: SecretSummary) -> bool:
        wanted = self.settings.username
        if not wanted:
            return True
        _, value = field_value(summary, self.settings.username_field)
        return value.casefold() == wanted.casefold()

    def _in_domain(self, summary: SecretSummary, domain: str | None) -> bool:
        _, value = field_value(summary, self.settings.domain_field)
        return bool(value) and normalize_domain(value, self.settings.domain_map) == domain

    def _domain_allowed(self, domain: str | None) -> bool:
        s = self.settings
        if not s.domains:
            note("rule domain: off (no domains)")
            return False
        if domain is None:
            note("rule domain: the asset's domain is unknown")
            return False
        if domain not in s.domain_names:
            note(f"rule domain: {domain} is not one of domains ({', '.join(s.domains)})")
            return False
        return True

    # -- vault -----------------------------------------------------------------------------------

    def _search(
        self,
        text: str,
        search_field: str,
        fields: Sequence[str],
        *,
        token: AccessToken | None,
    ) -> list[SecretSummary]:
        found = self.client.search(
            text,
            search_field=search_field,
            exact=True,
            extended_fields=fields,
            take=TAKE,
            folder_id=self.folder_id(),
            token=token,
        )
        if len(found) >= TAKE:
            note(f"{search_field} = {text}: {TAKE}+ secrets, only the first {TAKE} considered")
        return found

    def folder_id(self) -> int | None:
        """The ``organization`` folder's id, looked up once by path (one request)."""
        organization = self.settings.organization
        if organization is None or isinstance(organization, int):
            return organization
        with self._folder_lock:
            if self._folder_id is None:
                self._folder_id = self._lookup_folder(organization)
            return self._folder_id

    def _lookup_folder(self, path: str) -> int:
        url = self.client.secrets_url.rsplit("/", 1)[0] + "/folders/0"
        try:
            body = self.client.call(
                "GET", url, params={"folderPath": path}, what=f"the folder {path!r}", kind="folder"
            )
        except ProviderError as exc:
            raise ProviderError(
                f"organization {path!r}: no such folder, or the account cannot see it ({exc})"
            ) from None
        folder_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(folder_id, int):
            raise ProviderError(f"organization {path!r}: the folder answer has no id")
        return folder_id


def _oldest_first(found: Iterable[SecretSummary]) -> list[SecretSummary]:
    return sorted(found, key=lambda summary: summary.id)
