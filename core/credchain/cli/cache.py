"""``credchain cache clear``: forget the vault tokens cached in the home (seed 002's button)."""

from __future__ import annotations

import click

from credchain.cache import TokenCache
from credchain.config import find_config


@click.group()
def cache() -> None:
    """The token cache in the credchain home."""


@cache.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file.")
def clear(config_path: str | None) -> None:
    """Delete every cached vault access token; the next lookup logs in again."""
    _, home = find_config(config_path)
    count = TokenCache(home).clear()
    noun = "entry" if count == 1 else "entries"
    click.echo(f"cleared {count} token cache {noun} in {home}")
