"""For the thycotic plugin's own commands: pick a Secret Server chain entry and open its client.

Every such command takes ``--entry NAME`` and ``--config`` (``entry_options``). Without
``--entry`` the entry is the first of the chain whose type is ``thycotic``; with no such entry in
the chain, the first ``[providers.NAME]`` table of that type. The entry's settings are checked as
the resolver checks them (``ConfigError`` naming the key), a relative ``ca_bundle`` is read from
the home, and the token is cached in the home when the entry's ``token_cache`` says so: the
command logs in with the entry's grant (password or client credentials) exactly as a scan would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from credchain.cache import TokenCache
from credchain.cli.completion import entry_completer
from credchain.config import Config, load_config, settings_error
from credchain.errors import ConfigError
from credchain_thycotic.client import SecretServerClient
from credchain_thycotic.settings import ThycoticSettings

__all__ = [
    "ENTRY_TYPE",
    "EntryClient",
    "entry_options",
    "open_entry",
    "pick_entry",
    "thycotic_entries",
]

#: the provider type whose entries these commands serve
ENTRY_TYPE = "thycotic"
F = TypeVar("F", bound=Callable[..., Any])


def entry_options(command: F) -> F:
    """Add ``--entry NAME`` and ``--config FILE`` to a click command."""
    command = click.option(
        "--entry",
        "entry_name",
        metavar="NAME",
        help="The thycotic chain entry to use [the first of the chain].",
        shell_complete=entry_completer(ENTRY_TYPE),
    )(command)
    return click.option(
        "--config", "config_path", type=click.Path(dir_okay=False), help="Config file."
    )(command)


def thycotic_entries(config: Config) -> list[str]:
    """The names of the thycotic entries: the chain's in its order, then the other tables."""
    names = [name for name in config.chain if config.entry(name).type == ENTRY_TYPE]
    names += [
        name
        for name, entry in config.providers.items()
        if entry.type == ENTRY_TYPE and name not in names
    ]
    return names


def pick_entry(config: Config, name: str | None) -> tuple[str, ThycoticSettings]:
    """The entry ``name`` (else the default one) and its checked settings."""
    where = str(config.path) if config.path is not None else None
    known = thycotic_entries(config)
    if name is None:
        if not known:
            raise ConfigError(
                "no thycotic entry in the configuration (run 'credchain add')", path=where
            )
        name = known[0]
    elif name not in config.providers and name not in config.chain:
        listed = ", ".join(known) or "none"
        raise ConfigError(f"no entry {name!r} (thycotic entries: {listed})", path=where)
    entry = config.entry(name)
    if entry.type != ENTRY_TYPE:
        raise ConfigError(
            f"entry {name!r} is of type {entry.type!r}, not {ENTRY_TYPE!r}",
            path=where,
            key=f"providers.{name}.type",
        )
    try:
        settings = ThycoticSettings.model_validate(dict(entry.settings))
    except ValidationError as exc:
        raise settings_error(exc, key=f"providers.{name}", path=where, kind=ENTRY_TYPE) from None
    return name, settings.anchored(config.home)


@dataclass(frozen=True, slots=True)
class EntryClient:
    """An open client of one chain entry, with what commands report about it."""

    name: str
    settings: ThycoticSettings
    client: SecretServerClient
    home: Path

    @property
    def account(self) -> str:
        """Who logs in: the username, or the client id of the client-credentials grant."""
        s = self.settings
        return (s.client_id if s.grant == "client_credentials" else s.username) or ""


@contextmanager
def open_entry(config_path: str | None, entry_name: str | None) -> Iterator[EntryClient]:
    """Load the configuration, pick the entry, and yield its client (closed on exit)."""
    config = load_config(config_path)
    name, settings = pick_entry(config, entry_name)
    cache = TokenCache(config.home) if settings.token_cache else None
    client = SecretServerClient(settings, entry=name, token_cache=cache)
    try:
        yield EntryClient(name, settings, client, config.home)
    finally:
        client.close()
