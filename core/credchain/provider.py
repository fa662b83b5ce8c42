"""The front door for provider authors: what a provider needs, in one import.

A provider is a class registered under the entry-point group ``credchain.providers``. credchain
builds one instance per chain entry: ``ProviderClass(settings, context)``, where ``settings`` is
the entry's table validated by ``ProviderClass.Settings`` (a ``ProviderSettings`` model; type
secret settings as ``SecretStr``) and ``context`` is a ``ProviderContext``. The instance
implements the hooks of ``credchain.hookspecs`` with ``@hookimpl``; ``note()`` adds to the trace.
Subclassing ``Provider`` is a convenience, not a requirement.

A provider may also implement these optional protocols; credchain's commands ask for them by
``isinstance``, so a third-party provider gets what the first-party ones get:

=================  ==========================================  ====================================
protocol           method                                      asked by
=================  ==========================================  ====================================
``Describes``      ``describe(table, home)`` (classmethod)     ``status``: where the entry points
``StandsAlone``    ``standalone(home)`` (classmethod)          ``enable`` with an empty chain
``Checks``         ``check()``                                 ``test``: log in, load, for real
``Locates``        ``where(query)``                            ``test``, ``add``: advice on errors
``ListsCandidates`` ``candidates(query)``                      ``test ENTRY``: what would be tried
``CountsRequests`` ``vault_requests()``                        scan summaries, ``demo``
``Prefetches``     ``prefetch()`` -> ``Prefetched | None``      ``resolve_many``, the agent: read
                                                               ahead once per run, ``release()``
``Advises``        ``advice(error, query)``                    ``test``: the advice on its errors
``ChecksFields``   ``check_fields(query)``                     ``test``: every mapped field exists
``AnswersEveryAsset`` ``answers_every_asset(table)`` (classm.) ``test``, ``chain``: a warning
=================  ==========================================  ====================================

A provider distribution may add ``credchain`` sub-commands too: click commands registered under
the entry-point group ``credchain.commands`` (see docs/plugin-authors.md).
"""

from __future__ import annotations

from credchain._provider import (
    Advises,
    AnswersEveryAsset,
    Candidate,
    Checks,
    ChecksFields,
    CountsRequests,
    Describes,
    ListsCandidates,
    Locates,
    Prefetched,
    Prefetches,
    Provider,
    ProviderContext,
    ProviderSettings,
    Standalone,
    StandsAlone,
    Where,
)
from credchain.config import settings_error
from credchain.errors import (
    AccessDenied,
    ConfigError,
    FieldMissing,
    LoginRefused,
    ProviderError,
    ProviderUnavailable,
    TLSVerificationError,
    TokenExpired,
    UnexpectedAnswer,
    WrongEndpoint,
)
from credchain.hookspecs import hookimpl
from credchain.models import AssetQuery, SafeCredential
from credchain.tls import TLSPolicy
from credchain.trace import note

__all__ = [
    "AccessDenied",
    "Advises",
    "AnswersEveryAsset",
    "AssetQuery",
    "Candidate",
    "Checks",
    "ChecksFields",
    "ConfigError",
    "CountsRequests",
    "Describes",
    "FieldMissing",
    "ListsCandidates",
    "Locates",
    "LoginRefused",
    "Prefetched",
    "Prefetches",
    "Provider",
    "ProviderContext",
    "ProviderError",
    "ProviderSettings",
    "ProviderUnavailable",
    "SafeCredential",
    "Standalone",
    "StandsAlone",
    "TLSPolicy",
    "TLSVerificationError",
    "TokenExpired",
    "UnexpectedAnswer",
    "Where",
    "WrongEndpoint",
    "hookimpl",
    "note",
    "settings_error",
]
