"""What a provider is: its settings base, its context, the optional protocols, the base class.

Import these from ``credchain.provider``, the front door; this module is where they are defined.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict

from credchain.models import AssetQuery

if TYPE_CHECKING:
    from credchain.cache import Cache
    from credchain.config import Config


class ProviderSettings(BaseModel):
    """Base for a provider's settings: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may need beyond its own settings."""

    #: the chain entry's name (``[providers.NAME]``)
    entry: str
    #: the credchain home: secret key, caches, custom scripts (``credchain.home``)
    home: Path
    #: the whole configuration, for providers that reuse another entry's settings
    config: Config | None = field(default=None, repr=False)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)
    #: wall-clock time; tests inject a fake one to expire tokens without sleeping
    clock: Callable[[], float] = field(default=time.time, repr=False)
    #: the ``[cache]`` the resolver opened; a provider shares tokens through it when
    #: ``cache.shared`` (``credchain.cache.SharedTokens``)
    cache: Cache | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A credential a provider would try for an asset, as ``credchain test`` lists it: no secret."""

    rule: str
    secret_id: int | str | None
    secret_name: str
    username: str


@dataclass(frozen=True)
class Where:
    """What advice about an entry's error can point at; every part optional."""

    url: str | None = None
    port: int | None = None
    mapping_file: Path | None = None
    #: the search that found nothing, e.g. ``Secret Name = 'web-01'``
    search: str | None = None


@dataclass(frozen=True, slots=True)
class Standalone:
    """Whether a provider type can be the whole chain with no settings, and what it would use."""

    ready: bool
    #: what it uses when ready ("the custom script /x.py"); else what the admin should do
    description: str


@runtime_checkable
class Describes(Protocol):
    """A provider class that says, from an entry's raw table, where the entry points."""

    @classmethod
    def describe(cls, table: Mapping[str, Any], home: Path) -> str:
        """A short text for ``status`` ("https://vault:443", a script's path); no secret."""
        ...


@runtime_checkable
class StandsAlone(Protocol):
    """A provider class that can serve with no settings at all (SAFE: the custom script alone)."""

    @classmethod
    def standalone(cls, home: Path) -> Standalone:
        """Whether it is ready to be the whole chain in ``home``."""
        ...


@runtime_checkable
class Checks(Protocol):
    """A provider that can check itself for real: log in, load its script."""

    def check(self) -> str:
        """What passed, in a line; raise the ``CredchainError`` of what did not."""
        ...


@runtime_checkable
class Locates(Protocol):
    """A provider that tells advice where to point (URL, port, mapping file, the search)."""

    def where(self, query: AssetQuery | None) -> Where: ...


@runtime_checkable
class ListsCandidates(Protocol):
    """A provider that lists what it would try for an asset, in order, reading no password."""

    def candidates(self, query: AssetQuery) -> list[Candidate]: ...


@runtime_checkable
class CountsRequests(Protocol):
    """A provider that counts the requests it sent to its vault."""

    def vault_requests(self) -> Mapping[str, int]:
        """HTTP attempts sent for this entry (retries and token grants included), by kind."""
        ...


@runtime_checkable
class Prefetched(Protocol):
    """What a provider read ahead for a run; it answers from it until ``release``."""

    def release(self) -> None:
        """The run is over: drop what was read ahead (once; a second call does nothing)."""
        ...


@runtime_checkable
class Advises(Protocol):
    """A provider that says what to do about its own errors and its "not here" answers."""

    def advice(self, error: BaseException, query: AssetQuery | None) -> list[str] | None:
        """Instructions for the admin, one a line; ``None`` leaves it to credchain's generic
        advice. ``error`` is the entry's error, or the ``CredentialNotFound`` of a walk in
        which it answered "not here"."""
        ...


@runtime_checkable
class Prefetches(Protocol):
    """A provider that can read once, at the start of a run, what the run's lookups will need.

    ``Resolver.prefetch()`` calls ``prefetch`` at the start of ``resolve_many`` (and the agent
    once per loaded configuration) and ``release`` at the end. Lookups in between may be
    answered from what was read ahead, and must answer exactly what they would have without
    it. ``None``: this entry does not read ahead (not configured to, or it fell back).
    """

    def prefetch(self) -> Prefetched | None: ...


@runtime_checkable
class ChecksFields(Protocol):
    """A provider that checks every field it is configured to read against a found secret."""

    def check_fields(self, query: AssetQuery) -> str:
        """What passed, in a line (the secret and its fields); raise ``FieldMissing`` naming a
        configured field the secret does not have."""
        ...


@runtime_checkable
class AnswersEveryAsset(Protocol):
    """A provider class that can tell, from an entry's raw table, that it answers every asset
    (so that the entries after it in the chain are asked only when it fails)."""

    @classmethod
    def answers_every_asset(cls, table: Mapping[str, Any]) -> str | None:
        """Why it answers every asset ("default_domain and fallback_to_local"), or ``None``."""
        ...


S = TypeVar("S", bound=ProviderSettings)


class Provider(Generic[S]):
    """Optional base class: keeps ``settings`` and ``context``, and does nothing on ``close``."""

    Settings: ClassVar[type[ProviderSettings]] = ProviderSettings

    def __init__(self, settings: S, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context

    def close(self) -> None:
        """Release connections and workers; called when the resolver closes."""
