"""A custom script that reuses credchain's stored Secret Server configuration (seed 000 §3, 2.2).

Install it as ``integrations/custom/thycotic/thycotic_script.py`` in the credchain home (mode
0600), with a Thycotic entry configured by ``credchain add`` (it need not be in the chain).

It looks the asset up with the configured mapping, as the Thycotic provider does, and then
applies one rule of its own: a secret whose name says it is for scanning wins over the others.
"""

from __future__ import annotations

from credchain_custom_script.api import (
    NotFound,
    default_lookup,
    safe_dict,
    search_asset,
    thycotic_client,
)

#: a secret whose name ends so is the one to scan with, when the asset has several
SCAN_SUFFIX = " scan"


def get_password_from_thycotic(query_data: dict[str, str | None]) -> dict[str, str] | None:
    for secret in search_asset(query_data):
        if secret.name.endswith(SCAN_SUFFIX):
            record = thycotic_client().get_secret(secret.id)
            return safe_dict(record.value("username"), record.value("password"))
    found = default_lookup(query_data)
    if found is None:
        raise NotFound
    return found
