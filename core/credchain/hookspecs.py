"""The four hooks a provider implements, in the order the resolver calls them.

A provider is a plugin object (one per chain entry, built with that entry's settings) whose
methods carry ``@hookimpl``. Every hook is optional and ``firstresult``; an implementation may
accept fewer arguments than the spec (pluggy passes only those it names). ``entry`` is the chain
entry's name, so a cross-cutting plugin (audit, metrics) that wraps a hook with
``@hookimpl(wrapper=True)`` can tell the entries apart.

The resolver calls, for one chain entry::

    verify_tls(entry)                          once, before the entry is first used
    authenticate(entry, renew=False)           every walk; cache the token, return it fast
    lookup(entry, query, auth)                 None means "not here": the chain goes on
    extract_credentials(entry, query, record)  turns what lookup found into a SafeCredential

``lookup`` gets the token ``authenticate`` returned and uses it. A token the vault refuses is
the provider's client's business: renew it once, retry once, and raise ``TokenExpired`` if the
fresh one is refused too; the resolver never retries a lookup. Raise ``ProviderUnavailable``
when the vault cannot answer now and ``ProviderError`` (or one of its kinds in
``credchain.errors``) when it never will as configured; never put a secret in a message.

Provider authors import all of this from ``credchain.provider``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from credchain.models import AssetQuery, SafeCredential
    from credchain.tls import TLSPolicy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "credchain"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def credchain_verify_tls(entry: str) -> TLSPolicy | None:
    """Say how the vault's certificate is verified: a CA bundle, the system store or a pin.

    Called once per entry before its first ``authenticate``, and again on the next walk if it
    raised. Return ``None`` when the provider talks to no server. Raise
    ``TLSVerificationError`` when the server presents a certificate that fails the policy.
    """


@hookspec(firstresult=True)
def credchain_authenticate(entry: str, renew: bool) -> object | None:
    """Return what ``lookup`` needs to call the vault (a token), or ``None``.

    Called on every walk, so return a cached token while it is fresh; share one across all
    assets and threads. ``renew=True`` asks for a new one whatever the cache holds (``credchain
    test`` logs in afresh with it).
    """


@hookspec(firstresult=True)
def credchain_lookup(entry: str, query: AssetQuery, auth: object | None) -> object | None:
    """Find the asset's secret in the vault; ``None`` means "not here" and the chain goes on.

    The record returned (any object the same provider's ``extract_credentials`` understands) is
    never logged or shown by credchain.
    """


@hookspec(firstresult=True)
def credchain_extract_credentials(
    entry: str, query: AssetQuery, record: object
) -> SafeCredential | None:
    """Turn the record ``lookup`` found into a ``SafeCredential`` (``None``: not usable here)."""
