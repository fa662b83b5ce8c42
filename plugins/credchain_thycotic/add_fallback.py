"""``credchain add --domain-fallback``: a domain-fallback entry (seed 002) over the new connection.

Asked after the mapping, in the ECM plugin's words: the domains to include domain credentials
for, the default domain, the fall-back to a local account and the account name. The entry is
``[providers.domain-fallback]`` (type ``domain-fallback``, ``connection = "thycotic"``), placed
right after ``thycotic`` in the chain, so an asset's own secret is still found first. Its
settings are checked by the domain-fallback provider's own settings class, loaded by entry point
as the resolver loads it (this plugin does not import another).
"""

from __future__ import annotations

from typing import Any

import click
from pydantic import ValidationError

from credchain.cli.prompts import Asker
from credchain.config import settings_error
from credchain.errors import CredchainError
from credchain.plugins import load_provider_classes

__all__ = ["FALLBACK_ENTRY", "ask_fallback", "place_fallback"]

#: the chain entry (and provider type) ``add --domain-fallback`` writes
FALLBACK_ENTRY = "domain-fallback"


def ask_fallback(
    ask: Asker, flags: dict[str, Any], previous: dict[str, Any], connection: str
) -> dict[str, Any]:
    """The domain-fallback entry's table, asked (or from flags), checked by its provider."""
    domains = ask.text(
        "Include domain credentials for (domains, comma-separated)",
        flag=flags["fallback_domains"],
        option="--fallback-domains",
        default=", ".join(previous.get("domains") or ()) or None,
    )
    default_domain = ask.text(
        "Default Domain for assets whose domain is not known (optional; - for none)",
        flag=flags["default_domain"],
        option="--default-domain",
        default=previous.get("default_domain"),
        optional=True,
    )
    local = ask.confirm(
        "Enable fall-back to local account if domain account not found",
        flag=flags["fallback_to_local"],
        default=bool(previous.get("fallback_to_local", False)),
    )
    username = ask.text(
        "Account name to look for, bare (optional; - for any)",
        flag=flags["fallback_username"],
        option="--fallback-username",
        default=previous.get("username"),
        optional=True,
    )
    table: dict[str, Any] = {
        **{k: v for k, v in previous.items() if k not in _ASKED},
        "type": FALLBACK_ENTRY,
        "connection": connection,
        "domains": [part.strip() for part in domains.split(",") if part.strip()],
        "fallback_to_local": local,
    }
    if default_domain not in ("", "-"):
        table["default_domain"] = default_domain
    if username not in ("", "-"):
        table["username"] = username
    _check(table)
    return table


_ASKED = frozenset({"type", "connection", "domains", "default_domain", "fallback_to_local"})
_ASKED |= {"username"}


def _check(table: dict[str, Any]) -> None:
    try:
        cls = load_provider_classes([FALLBACK_ENTRY]).classes[FALLBACK_ENTRY]
    except CredchainError as exc:
        raise click.UsageError(f"--domain-fallback: {exc}") from None
    model = getattr(cls, "Settings", None)
    if model is None:
        return
    settings = {k: v for k, v in table.items() if k != "type"}
    try:
        model.model_validate(settings)
    except ValidationError as exc:
        problem = settings_error(exc, key=f"providers.{FALLBACK_ENTRY}", kind=FALLBACK_ENTRY)
        raise click.UsageError(str(problem)) from None


def place_fallback(document: dict[str, Any], table: dict[str, Any], after: str) -> None:
    """Set the entry's table and put it right after ``after`` in the chain."""
    document.setdefault("providers", {})[FALLBACK_ENTRY] = table
    chain = [name for name in document.get("chain", []) if name != FALLBACK_ENTRY]
    position = chain.index(after) + 1 if after in chain else len(chain)
    chain.insert(position, FALLBACK_ENTRY)
    document["chain"] = chain
