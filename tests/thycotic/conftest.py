"""Fixtures for Thycotic provider tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from thycotic_helpers import MakeResolver, settings_for

from credchain import ChainEntry, Resolver
from credchain.devserver import DevServer
from credchain.provider import ProviderContext
from credchain_thycotic import ThycoticProvider


@pytest.fixture
def make_resolver(tmp_path: Path) -> Iterator[MakeResolver]:
    """``make_resolver(server, clock=None, **settings)``: a one-entry chain named ``thycotic``."""
    made: list[Resolver] = []

    def make(
        server: DevServer, clock: Callable[[], float] | None = None, **overrides: Any
    ) -> Resolver:
        context = ProviderContext("thycotic", tmp_path)
        if clock is not None:
            context = ProviderContext("thycotic", tmp_path, clock=clock)
        provider = ThycoticProvider(settings_for(server, **overrides), context)
        resolver = Resolver([ChainEntry("thycotic", provider, type="thycotic")])
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        resolver.close()
