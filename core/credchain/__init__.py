"""credchain: asset credentials from privileged-access vaults, at scan time.

``Resolver.from_config().resolve(AssetQuery(asset_name="web-01"))`` returns a ``SafeCredential``
whose ``to_safe_dict()`` is the SAFE dict. Errors are in ``credchain.errors``.
"""

from __future__ import annotations

from credchain import errors
from credchain.hookspecs import hookimpl
from credchain.models import AssetQuery, SafeCredential
from credchain.resolver import ChainEntry, Resolver

__all__ = ["AssetQuery", "ChainEntry", "Resolver", "SafeCredential", "errors", "hookimpl"]
