"""Your provider in a chain, without a config file: unit tests of its hooks as the resolver
calls them.

```python
provider = make_provider(EnvVarsProvider, {"prefix": "LAB"}, home=tmp_path, environ={...})
resolver = resolver_for(provider, before=[NotHereProvider()])   # the pytest fixture closes it
resolver.resolve({"asset_name": "web-01"})
```
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from credchain.config import EntryConfig, OnError
from credchain.plugins import build_provider
from credchain.provider import ProviderContext
from credchain.resolver import ChainEntry, Resolver

__all__ = ["make_provider", "resolver_for"]


def make_provider(
    cls: type,
    settings: Mapping[str, Any] | None = None,
    *,
    home: Path,
    entry: str = "entry",
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> Any:
    """``cls`` built as credchain builds a chain entry: ``settings`` (the entry's table, with
    no ``type`` or ``on_error``) validated by ``cls.Settings``, a ``ConfigError`` if they are
    wrong. ``home`` is the credchain home it gets (``tmp_path`` will do); ``environ`` defaults
    to an empty one, so a test states every variable it relies on.
    """
    context = ProviderContext(
        entry=entry,
        home=home,
        environ=dict(environ or {}),
        clock=clock,
    )
    table = EntryConfig(name=entry, type=entry, settings=dict(settings or {}))
    return build_provider(table, cls, context)


def resolver_for(
    provider: object,
    *,
    name: str = "entry",
    on_error: OnError | None = None,
    before: Sequence[object] = (),
    after: Sequence[object] = (),
    plugins: Sequence[object] = (),
) -> Resolver:
    """A resolver whose chain is ``provider`` as entry ``name``, between ``before`` and
    ``after`` (providers, or ``ChainEntry``s to name them: others are ``before-1``,
    ``after-1``...); ``plugins`` are cross-cutting plugins. Close it when done."""

    def entries(providers: Sequence[object], prefix: str) -> list[ChainEntry]:
        return [
            p if isinstance(p, ChainEntry) else ChainEntry(f"{prefix}-{i}", p)
            for i, p in enumerate(providers, start=1)
        ]

    chain = [
        *entries(before, "before"),
        ChainEntry(name, provider, on_error),
        *entries(after, "after"),
    ]
    return Resolver(chain, plugins=plugins)
