"""Helpers for Thycotic provider tests: settings pointed at a dev server, a shared fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from credchain import Resolver
from credchain.devserver import DevServer
from credchain_thycotic import ThycoticSettings


def settings_for(server: DevServer, **overrides: Any) -> ThycoticSettings:
    """Settings for ``server``: CA-verified admin login unless overridden."""
    parts = urlsplit(server.url)
    values: dict[str, Any] = {
        "url": f"{parts.scheme}://{parts.hostname}",
        "port": parts.port,
        "username": server.admin.username,
        "password": server.admin.password,
        "ca_bundle": server.ca_cert,
        "retries": 2,
        "read_timeout": 5.0,
    }
    values.update(overrides)
    return ThycoticSettings.model_validate({k: v for k, v in values.items() if v is not None})


MakeResolver = Callable[..., Resolver]


class FakeClock:
    """A clock shared by a dev server and a client, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
