"""``credchain cache clear``: forget the vault tokens cached in the home (seed 002's button), and
what the ``[cache]`` backend holds (tokens and answers shared with other processes or nodes)."""

from __future__ import annotations

import click

from credchain.cache import CacheUnavailable, TokenCache, open_cache
from credchain.config import find_config, load_config
from credchain.errors import ConfigError


@click.group()
def cache() -> None:
    """The token cache in the credchain home, and the shared cache of [cache]."""


@cache.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file.")
def clear(config_path: str | None) -> None:
    """Delete every cached vault access token (and the shared cache's entries); the next
    lookup logs in again."""
    path, home = find_config(config_path)
    count = TokenCache(home).clear()
    noun = "entry" if count == 1 else "entries"
    click.echo(f"cleared {count} token cache {noun} in {home}")
    if not path.exists():
        return
    shared = open_cache(load_config(path))
    try:
        if shared.shared:
            try:
                count = shared.clear()
            except CacheUnavailable as exc:
                raise ConfigError(
                    f"cannot clear the shared cache {shared.backend.describe()}: {exc}",
                    path=str(path),
                    key="cache",
                ) from None
            noun = "entry" if count == 1 else "entries"
            click.echo(f"cleared {count} shared cache {noun} in {shared.backend.describe()}")
    finally:
        shared.close()
