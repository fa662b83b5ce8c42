"""Helpers for Thycotic provider tests: settings pointed at a dev server, a shared fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from credchain import Resolver
from credchain.devserver import DevServer
from credchain_thycotic import ThycoticSettings


def settings_for(server: DevServer, **overrides: Any) -> ThycoticSettings:
    """Settings for ``server``: CA-verified admin login unless overridden."""
    values: dict[str, Any] = {"retries": 2, "read_timeout": 5.0, **overrides}
    return ThycoticSettings.model_validate(server.thycotic_table(**values))


MakeResolver = Callable[..., Resolver]


class FakeClock:
    """A clock shared by a dev server and a client, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
