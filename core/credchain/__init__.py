"""credchain: asset credentials from privileged-access vaults, at scan time.

``Resolver.from_config().resolve(AssetQuery(asset_name="web-01"))`` returns a ``SafeCredential``
whose ``to_safe_dict()`` is the SAFE dict; ``resolve_many`` yields a ``Resolution`` per asset and
``explain`` a ``Trace``. Errors are in ``credchain.errors``. Provider authors start from
``credchain.provider``.

The names are imported on first use: a submodule (``credchain.agent.client``, behind
``credchain resolve --json --agent``) can be imported without the resolver and its plugins.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
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

#: each public name -> the module that defines it
_HOMES = {
    "AssetQuery": "credchain.models",
    "ChainEntry": "credchain.resolver",
    "Resolution": "credchain.scan",
    "Resolver": "credchain.resolver",
    "SafeCredential": "credchain.models",
    "Trace": "credchain.trace",
    "hookimpl": "credchain.hookspecs",
}


def __getattr__(name: str) -> object:
    if name == "errors":
        return _importlib.import_module("credchain.errors")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'credchain' has no attribute {name!r}")
    value = getattr(_importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
