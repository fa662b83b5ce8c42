"""A custom script that chooses among an asset's several credentials by the admin's rules.

Rules, in order:

1. never use a disabled secret: inactive, or its last heartbeat failed (the password is stale);
2. prefer the asset's scan account (template ``Scan Account``);
3. for a Windows asset without one, use the domain admin secret (it requires a comment);
4. otherwise: not here -- the chain goes on (never scan with root by accident).

Secrets are found by their ``machine`` field (the asset's name, else its IP address) with the
Secret Server configured in credchain (``credchain add``). ``choose`` is plain Python over the
search records, so the rules can be tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from credchain_custom_script.api import NotFound, safe_dict, thycotic_client

SEARCH_FIELD = "machine"
SCAN_TEMPLATE = "Scan Account"
WINDOWS_TEMPLATE = "Windows Account"
DOMAIN_ADMIN_NAME = "CORP\\Administrator"
VIEW_COMMENT = "credchain: vulnerability scan"
FAILED_HEARTBEATS = {"Failed", "UnableToConnect", "ArgumentError", "IncompatibleHost"}

Record = dict[str, Any]


def enabled(record: Record) -> bool:
    """Rule 1: inactive secrets and secrets whose heartbeat failed are skipped."""
    return bool(record.get("active", True)) and (
        record.get("lastHeartBeatStatus") not in FAILED_HEARTBEATS
    )


def choose(records: Iterable[Record]) -> tuple[str, Record | str] | None:
    """``("secret", record)`` to read, ``("domain-admin", name)``, or ``None`` for not here."""
    usable = [record for record in records if enabled(record)]
    scan = [r for r in usable if r.get("secretTemplateName") == SCAN_TEMPLATE]
    if scan:
        return "secret", min(scan, key=lambda r: int(r["id"]))
    if any(r.get("secretTemplateName") == WINDOWS_TEMPLATE for r in usable):
        return "domain-admin", DOMAIN_ADMIN_NAME
    return None


def _search(text: str, field: str | None) -> list[Record]:
    client = thycotic_client()
    params: dict[str, Any] = {"filter.searchText": text, "filter.isExactMatch": "true"}
    if field:
        params["filter.searchField"] = field
    params["filter.includeInactive"] = "true"  # rule 1 decides, visibly
    body = client.call("GET", client.secrets_url, params=params, what="the secrets search")
    return [r for r in body.get("records", []) if isinstance(r, dict)]


def get_password_from_thycotic(query_data: dict[str, str | None]) -> dict[str, str] | None:
    asset = query_data["asset_name"] or query_data["ip_address"]
    if not asset:
        raise NotFound
    choice = choose(_search(asset, SEARCH_FIELD))
    if choice is None:
        return None
    client = thycotic_client()
    if choice[0] == "secret":
        record = choice[1]
        assert isinstance(record, dict)
        secret = client.get_secret(int(record["id"]))
    else:
        named = [r for r in _search(str(choice[1]), None) if enabled(r)]
        if not named:
            return None
        secret = client.get_secret(int(named[0]["id"]), comment=VIEW_COMMENT)
    privileged = "privilege-password" in secret.field_names() + [s for _, s, _ in secret.items]
    return safe_dict(
        secret.value("username"),
        secret.value("password"),
        secret.value("privilege-password") if privileged else None,
    )
