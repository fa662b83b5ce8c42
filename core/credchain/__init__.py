"""credchain: asset credentials from privileged-access vaults, at scan time.

``Resolver.from_config().resolve(AssetQuery(asset_name="web-01"))`` returns a ``SafeCredential``
whose ``to_safe_dict()`` is the SAFE dict; ``resolve_many`` yields a ``Resolution`` per asset and
``explain`` a ``Trace``. Errors are in ``credchain.errors``. Provider authors start from
``credchain.provider``.
"""

from __future__ import annotations

from credchain import errors
from credchain.hookspecs import hookimpl
from credchain.models import AssetQuery, SafeCredential
from credchain.resolver import ChainEntry, Resolver
from credchain.scan import Resolution
from credchain.trace import Trace

__all__ = [
    "AssetQuery",
    "ChainEntry",
    "Resolution",
    "Resolver",
    "SafeCredential",
    "Trace",
    "errors",
    "hookimpl",
]
