"""What a provider is, for plugin authors.

A provider is a class registered under the entry-point group ``credchain.providers``. credchain
builds one instance per chain entry: ``ProviderClass(settings, context)``, where ``settings`` is
the entry's table validated by ``ProviderClass.Settings`` (a pydantic model; type secret
settings as ``SecretStr``). The instance implements the hooks of ``credchain.hookspecs`` with
``@hookimpl``. Subclassing ``Provider`` is a convenience, not a requirement.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from credchain.config import Config

__all__ = ["Candidate", "Provider", "ProviderContext", "ProviderSettings"]


class ProviderSettings(BaseModel):
    """Base for a provider's settings: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may need beyond its own settings."""

    #: the chain entry's name (``[providers.NAME]``)
    entry: str
    #: the credchain home: secret key, caches, custom scripts
    home: Path
    #: the whole configuration, for providers that reuse another entry's settings
    config: Config | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: wall-clock time; tests inject a fake one to expire tokens without sleeping
    clock: Callable[[], float] = time.time


@dataclass(frozen=True, slots=True)
class Candidate:
    """A credential a provider would try for an asset, as ``credchain test`` lists it: no secret.

    Providers that can list candidates without reading passwords define
    ``candidates(query) -> list[Candidate]``, in the order they would try them.
    """

    rule: str
    secret_id: int | str | None
    secret_name: str
    username: str


S = TypeVar("S", bound=ProviderSettings)


class Provider(Generic[S]):
    """Optional base class: keeps ``settings`` and ``context``, and does nothing on ``close``."""

    Settings: ClassVar[type[ProviderSettings]] = ProviderSettings

    def __init__(self, settings: S, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context

    def close(self) -> None:
        """Release connections and workers; called when the resolver closes."""
